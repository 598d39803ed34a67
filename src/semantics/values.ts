import type { SourceRange } from '../syntax/location.js';

/**
 * The value of an evaluated expression. Every value keeps `loc`, the place it was
 * written, so that a type error points at the text that produced the bad value
 * (for a block argument: the call site).
 */
export type Value =
  | NumberValue
  | StringValue
  | BooleanValue
  | WordValue
  | ListValue
  | CallValue
  | ErrorValue;

export interface NumberValue {
  kind: 'number';
  value: number;
  /** Written as `80%`; `value` is then 80. */
  percent: boolean;
  loc: SourceRange;
}

export interface StringValue {
  kind: 'string';
  value: string;
  loc: SourceRange;
}

export interface BooleanValue {
  kind: 'boolean';
  value: boolean;
  loc: SourceRange;
}

/**
 * A bare name that names no parameter: an enumerated word (`same`, `flip`) or a
 * misspelled reference. `scopeNames` lists (lazily: most words are fine) the
 * names that were visible, for a did-you-mean when the word is a bad reference.
 */
export interface WordValue {
  kind: 'word';
  name: string;
  scopeNames: () => readonly string[];
  loc: SourceRange;
}

export interface ListValue {
  kind: 'list';
  items: Value[];
  loc: SourceRange;
}

export interface EvaluatedArgument {
  name?: string;
  nameLoc?: SourceRange;
  value: Value;
  loc: SourceRange;
}

/** `mi(max: 0.1)`, `crop(pad: 4)`: a call in value position, arguments evaluated. */
export interface CallValue {
  kind: 'call';
  callee: string;
  calleeLoc: SourceRange;
  args: EvaluatedArgument[];
  loc: SourceRange;
}

/** The result of an expression that already produced a diagnostic; never reported again. */
export interface ErrorValue {
  kind: 'error';
  loc: SourceRange;
}

export function describeValue(value: Value): string {
  switch (value.kind) {
    case 'number':
      return value.percent ? `${value.value}%` : `${value.value}`;
    case 'string':
      return `the string ${JSON.stringify(value.value)}`;
    case 'boolean':
      return `${value.value}`;
    case 'word':
      return `'${value.name}'`;
    case 'list':
      return `a list of ${value.items.length}`;
    case 'call':
      return `${value.callee}(...)`;
    case 'error':
      return 'an invalid value';
  }
}

/** A plain value for the IR's `params` (plan params are numbers, strings or booleans). */
export function toScalar(value: Value): number | string | boolean | undefined {
  switch (value.kind) {
    case 'number':
      return value.percent ? value.value / 100 : value.value;
    case 'string':
    case 'boolean':
      return value.value;
    default:
      return undefined;
  }
}
