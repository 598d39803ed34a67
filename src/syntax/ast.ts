/**
 * The abstract syntax tree of a .mono plan. Every node carries `loc`, the source
 * range it was parsed from (NO_RANGE for nodes built in code). The printer
 * (printer.ts) turns a tree back into canonical source, and parse(print(ast))
 * equals ast up to locations: that is the round-trip contract.
 */
import type { SourceRange } from './location.js';

export interface Identifier {
  kind: 'Identifier';
  name: string;
  loc: SourceRange;
}

// ---------------------------------------------------------------- expressions

export interface NumberLiteral {
  kind: 'Number';
  value: number;
  loc: SourceRange;
}

/** `80%`: value is 80 (the checker turns it into the fraction 0.8 where a fraction is meant). */
export interface PercentLiteral {
  kind: 'Percent';
  value: number;
  loc: SourceRange;
}

export interface StringLiteral {
  kind: 'String';
  value: string;
  loc: SourceRange;
}

export interface BooleanLiteral {
  kind: 'Boolean';
  value: boolean;
  loc: SourceRange;
}

/** A bare name in value position: a plan/block parameter, or an enumerated word (`same`, `mi`, `flip`). */
export interface Reference {
  kind: 'Ref';
  name: string;
  loc: SourceRange;
}

export interface ListExpression {
  kind: 'List';
  items: Expression[];
  loc: SourceRange;
}

/** `name(args)` in value position: `mi(max: 0.1)`, `crop(pad: 4)`, `cosine(to: 1e-3)`. */
export interface CallExpression {
  kind: 'Call';
  callee: Identifier;
  args: Argument[];
  loc: SourceRange;
}

export type BinaryOperator = '+' | '-' | '*' | '/';

export interface BinaryExpression {
  kind: 'Binary';
  op: BinaryOperator;
  left: Expression;
  right: Expression;
  loc: SourceRange;
}

export interface UnaryExpression {
  kind: 'Unary';
  op: '-';
  operand: Expression;
  loc: SourceRange;
}

export type Expression =
  | NumberLiteral
  | PercentLiteral
  | StringLiteral
  | BooleanLiteral
  | Reference
  | ListExpression
  | CallExpression
  | BinaryExpression
  | UnaryExpression;

/** A positional (`name` undefined) or named (`stride: 2`) argument. */
export interface Argument {
  kind: 'Argument';
  name?: Identifier;
  value: Expression;
  loc: SourceRange;
}

/** A formal parameter of a block or head: `f`, `stride = 1`. */
export interface ParameterDefinition {
  kind: 'ParameterDefinition';
  name: Identifier;
  default?: Expression;
  loc: SourceRange;
}

// ---------------------------------------------------------------- layers

/** `conv(64, 3, stride: 2)`, `relu`, `basic(64)`: a layer, or a call of a block. */
export interface LayerCall {
  kind: 'LayerCall';
  callee: Identifier;
  args: Argument[];
  loc: SourceRange;
}

/** `shared` or `shared(scale: 1/16)` after `repeat N`: one parameter set for all N copies. */
export interface SharedClause {
  kind: 'Shared';
  args: Argument[];
  loc: SourceRange;
}

/** `repeat N item` or `repeat N { items }`, optionally `repeat N shared ...`. */
export interface Repeat {
  kind: 'Repeat';
  count: Expression;
  shared?: SharedClause;
  body: LayerItem[];
  loc: SourceRange;
}

/** `residual { items }` or `residual(projection: false, scale: 0.5) { items }`. */
export interface Residual {
  kind: 'Residual';
  args: Argument[];
  body: LayerItem[];
  loc: SourceRange;
}

export type LayerItem = LayerCall | Repeat | Residual;

// ---------------------------------------------------------------- declarations

export interface Comment {
  kind: 'Comment';
  /** The comment text including its `#` or `//` marker, without the line break. */
  text: string;
  loc: SourceRange;
}

/** `param width = 8` */
export interface ParamDeclaration {
  kind: 'Param';
  name: Identifier;
  value: Expression;
  loc: SourceRange;
}

/** A `name value, value` line inside `data { }` or a phase body: `batch 128`, `augment crop(pad: 4), flip`, `lr cosine(to: 1e-3)`. */
export interface Setting {
  kind: 'Setting';
  name: Identifier;
  values: Expression[];
  loc: SourceRange;
}

/** `data mnist { batch 64 }`, `data cifar10("data/cifar") { ... }` */
export interface DataDeclaration {
  kind: 'Data';
  source: CallExpression | Reference;
  settings: Setting[];
  loc: SourceRange;
}

/** `block basic(f, stride = 1) { ... }` */
export interface BlockDeclaration {
  kind: 'Block';
  name: Identifier;
  params: ParameterDefinition[];
  body: LayerItem[];
  loc: SourceRange;
}

/** `head gap(classes) { global_avg_pool dense(classes) }` */
export interface HeadDeclaration {
  kind: 'Head';
  name: Identifier;
  params: ParameterDefinition[];
  body: LayerItem[];
  loc: SourceRange;
}

/** `stage1: repeat depth basic(16 * width)` */
export interface Section {
  kind: 'Section';
  name: Identifier;
  body: LayerItem[];
  loc: SourceRange;
}

/** `network input [32, 32, 3] { sections }` */
export interface NetworkDeclaration {
  kind: 'Network';
  input: Expression;
  sections: Section[];
  loc: SourceRange;
}

/** `partition p1 = stem .. stage1 proxy gap(10)`; `to` is absent for a single section. */
export interface PartitionDeclaration {
  kind: 'Partition';
  name: Identifier;
  from: Identifier;
  to?: Identifier;
  proxy?: LayerCall;
  loc: SourceRange;
}

/**
 * `train p1 for 30 epochs with msgd(lr: 0.1) { lr cosine(to: 1e-3) }`
 * `finetune all for 5 epochs with msgd(lr: 1e-3, momentum: 0.9)`
 * `target` is the partition name for `train`, and `all` for `finetune`.
 */
export interface PhaseDeclaration {
  kind: 'Phase';
  mode: 'train' | 'finetune';
  target: Identifier;
  epochs: Expression;
  optimizer: CallExpression;
  settings: Setting[];
  loc: SourceRange;
}

/** `schedule { best val_loss  train p1 ... }`: plan-wide settings, then the phases. */
export interface ScheduleDeclaration {
  kind: 'Schedule';
  settings: Setting[];
  phases: PhaseDeclaration[];
  loc: SourceRange;
}

export type Declaration =
  | ParamDeclaration
  | DataDeclaration
  | BlockDeclaration
  | HeadDeclaration
  | NetworkDeclaration
  | PartitionDeclaration
  | ScheduleDeclaration;

/** A whole file: `plan NAME` followed by declarations in source order. */
export interface Plan {
  kind: 'Plan';
  name: Identifier;
  declarations: Declaration[];
  /** Every comment of the file in source order; the printer puts them back. */
  comments: Comment[];
  loc: SourceRange;
}

export type AstNode =
  | Plan
  | Declaration
  | Section
  | PhaseDeclaration
  | Setting
  | LayerItem
  | SharedClause
  | Expression
  | Argument
  | ParameterDefinition
  | Identifier
  | Comment;
