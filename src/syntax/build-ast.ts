/**
 * Turns the parser's concrete syntax tree into the AST of ast.ts. Locations come
 * from the tokens: 1-based line and column, 0-based offset, end exclusive.
 *
 * After a syntax error the CST may lack pieces. A declaration or layer item that
 * is incomplete is left out, so that a partial plan is still well formed.
 */
import type { CstElement, CstNode, IToken } from './chevrotain.js';
import type * as Cst from './cst-types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type * as Ast from './ast.js';
import type { Position, SourceRange } from './location.js';
import { MAX_NESTING } from './parser.js';

/** Thrown when a recovered CST lacks a piece; caught where a partial result can drop the element. */
class Incomplete extends Error {}

/** Thrown once the nesting passes MAX_NESTING (the diagnostic is already recorded); ends the build. */
class TooDeep extends Error {}

/** The diagnostic for a plan nested deeper than MAX_NESTING, at the token that opens the level too many. */
export function nestingDiagnostic(file: string, token: IToken): Diagnostic {
  return {
    severity: 'error',
    code: 'nesting-too-deep',
    message: `'${token.image}' nests deeper than ${MAX_NESTING} levels, the most a plan may nest`,
    file,
    range: tokenRange(token),
    hint: 'brackets, bodies, repeat, unary minus and each operator of a chain add a level (docs/language.md, "Nesting limit"); move the inner part into a param or a block',
  };
}

function isToken(element: CstElement): element is IToken {
  return 'image' in element;
}

function usable(token: IToken): boolean {
  return !token.isInsertedInRecovery && Number.isFinite(token.startOffset);
}

// The child names of a CST node, from the generated types (cst-types.ts): a name that
// the rule does not have, or a token asked for as a node, fails the type check.
type ChildrenOf<N extends CstNode> = N['children'];
export type TokenName<N extends CstNode> = {
  [K in keyof ChildrenOf<N>]-?: NonNullable<ChildrenOf<N>[K]> extends IToken[] ? K : never;
}[keyof ChildrenOf<N>] &
  string;
export type NodeName<N extends CstNode> = {
  [K in keyof ChildrenOf<N>]-?: NonNullable<ChildrenOf<N>[K]> extends CstNode[] ? K : never;
}[keyof ChildrenOf<N>] &
  string;
type ChildNode<N extends CstNode, K extends NodeName<N>> = NonNullable<ChildrenOf<N>[K]> extends Array<infer C> ? C : never;

function elements(node: CstNode, name: string): readonly CstElement[] {
  return (node.children as Record<string, CstElement[] | undefined>)[name] ?? [];
}

// These helpers avoid intermediate arrays: plans with 10,000 blocks pass through here.
function tokensOf<N extends CstNode>(node: N, name: TokenName<N>): IToken[] {
  const found: IToken[] = [];
  for (const element of elements(node, name)) if (isToken(element) && usable(element)) found.push(element);
  return found;
}

function nthToken<N extends CstNode>(node: N, name: TokenName<N>, index: number): IToken | undefined {
  let seen = 0;
  for (const element of elements(node, name)) {
    if (isToken(element) && usable(element) && seen++ === index) return element;
  }
  return undefined;
}

function token<N extends CstNode>(node: N, name: TokenName<N>, index = 0): IToken {
  const found = nthToken(node, name, index);
  if (found === undefined) throw new Incomplete(`missing ${name}`);
  return found;
}

function optionalToken<N extends CstNode>(node: N, name: TokenName<N>): IToken | undefined {
  return nthToken(node, name, 0);
}

function childNodes<N extends CstNode, K extends NodeName<N>>(node: N, name: K): ChildNode<N, K>[] {
  const found: ChildNode<N, K>[] = [];
  for (const element of elements(node, name)) if (!isToken(element)) found.push(element as ChildNode<N, K>);
  return found;
}

function optionalChild<N extends CstNode, K extends NodeName<N>>(node: N, name: K): ChildNode<N, K> | undefined {
  for (const element of elements(node, name)) if (!isToken(element)) return element as ChildNode<N, K>;
  return undefined;
}

function child<N extends CstNode, K extends NodeName<N>>(node: N, name: K): ChildNode<N, K> {
  const found = optionalChild(node, name);
  if (found === undefined) throw new Incomplete(`missing ${name}`);
  return found;
}

export function tokenStart(token: IToken): Position {
  return { offset: token.startOffset, line: token.startLine ?? 1, column: token.startColumn ?? 1 };
}

export function tokenEnd(token: IToken): Position {
  return {
    offset: (token.endOffset ?? token.startOffset + token.image.length - 1) + 1,
    line: token.endLine ?? token.startLine ?? 1,
    column: (token.endColumn ?? token.startColumn ?? 1) + 1,
  };
}

export function tokenRange(token: IToken): SourceRange {
  return { start: tokenStart(token), end: tokenEnd(token) };
}

function span(start: SourceRange | IToken, end: SourceRange | IToken): SourceRange {
  return {
    start: 'image' in start ? tokenStart(start) : start.start,
    end: 'image' in end ? tokenEnd(end) : end.end,
  };
}

/** Tokens of several types in source order, for operator chains like `a + b - c`. */
function operatorsInOrder<N extends CstNode>(node: N, names: readonly TokenName<N>[]): IToken[] {
  return names.flatMap((name) => tokensOf(node, name)).sort((a, b) => a.startOffset - b.startOffset);
}

function keepComplete<N extends CstNode, T>(items: readonly N[], build: (node: N) => T): T[] {
  const built: T[] = [];
  for (const item of items) {
    try {
      built.push(build(item));
    } catch (error) {
      if (!(error instanceof Incomplete)) throw error;
    }
  }
  return built;
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\' };

export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];
  /**
   * Levels of nesting around the node being built, counted as the parser counts them
   * (parser.ts, MAX_NESTING) plus one per binary operator over its operands: the
   * parser's count alone lets `1 + 1 + ... + 1` build an AST thousands of levels deep.
   */
  private depth = 0;

  constructor(private readonly file: string) {}

  /** The plan, or undefined when even its header is missing or it nests too deep. */
  plan(root: CstNode): Ast.Plan | undefined {
    const cst = root as Cst.PlanCstNode;
    try {
      const planToken = token(cst, 'Plan');
      const name = this.identifier(token(cst, 'Identifier'));
      const declarations = keepComplete(childNodes(cst, 'declaration'), (node) => this.declaration(node));
      const last = declarations[declarations.length - 1];
      return {
        kind: 'Plan',
        name,
        declarations,
        comments: [],
        loc: span(planToken, last === undefined ? name.loc : last.loc),
      };
    } catch (error) {
      if (error instanceof Incomplete || error instanceof TooDeep) return undefined;
      throw error;
    }
  }

  /** A lone expression (the parser's `expression` rule invoked on its own), or undefined when incomplete or too deep. */
  standaloneExpression(root: CstNode): Ast.Expression | undefined {
    try {
      return this.expression(root as Cst.ExpressionCstNode);
    } catch (error) {
      if (error instanceof Incomplete || error instanceof TooDeep) return undefined;
      throw error;
    }
  }

  /** Reports the nesting limit passed at `opener` and ends the build. */
  private tooDeep(opener: IToken): never {
    this.diagnostics.push(nestingDiagnostic(this.file, opener));
    throw new TooDeep();
  }

  /**
   * Builds at `depth` levels; past MAX_NESTING reports at `opener` and stops the build
   * (without an opener the CST was recovered after a syntax error, already reported).
   */
  private at<T>(depth: number, opener: IToken | undefined, build: () => T): T {
    if (depth > MAX_NESTING && opener !== undefined) this.tooDeep(opener);
    const outer = this.depth;
    this.depth = depth;
    try {
      return build();
    } finally {
      this.depth = outer;
    }
  }

  /** `build` one level deeper, the level opened by `opener`. */
  private nested<T>(opener: IToken | undefined, build: () => T): T {
    return this.at(this.depth + 1, opener, build);
  }

  private error(range: SourceRange, message: string): void {
    this.diagnostics.push({ severity: 'error', code: 'syntax-error', message, file: this.file, range });
  }

  private identifier(token: IToken): Ast.Identifier {
    return { kind: 'Identifier', name: token.image, loc: tokenRange(token) };
  }

  private declaration(node: Cst.DeclarationCstNode): Ast.Declaration {
    const param = optionalChild(node, 'paramDeclaration');
    if (param !== undefined) return this.param(param);
    const data = optionalChild(node, 'dataDeclaration');
    if (data !== undefined) return this.data(data);
    const block = optionalChild(node, 'blockDeclaration');
    if (block !== undefined) return { kind: 'Block', ...this.layerDefinition(block, token(block, 'Block')) };
    const head = optionalChild(node, 'headDeclaration');
    if (head !== undefined) return { kind: 'Head', ...this.layerDefinition(head, token(head, 'Head')) };
    const network = optionalChild(node, 'networkDeclaration');
    if (network !== undefined) return this.network(network);
    const partition = optionalChild(node, 'partitionDeclaration');
    if (partition !== undefined) return this.partition(partition);
    const schedule = optionalChild(node, 'scheduleDeclaration');
    if (schedule !== undefined) return this.schedule(schedule);
    throw new Incomplete('empty declaration');
  }

  private param(node: Cst.ParamDeclarationCstNode): Ast.ParamDeclaration {
    const value = this.expression(child(node, 'expression'));
    return {
      kind: 'Param',
      name: this.identifier(token(node, 'Identifier')),
      value,
      loc: span(token(node, 'Param'), value.loc),
    };
  }

  private data(node: Cst.DataDeclarationCstNode): Ast.DataDeclaration {
    const nameToken = token(node, 'Identifier');
    const argumentList = optionalChild(node, 'argumentList');
    const source: Ast.CallExpression | Ast.Reference =
      argumentList === undefined
        ? { kind: 'Ref', name: nameToken.image, loc: tokenRange(nameToken) }
        : this.call(nameToken, argumentList);
    const body = optionalChild(node, 'settingsBody');
    return {
      kind: 'Data',
      source,
      settings: body === undefined ? [] : this.settings(body),
      loc: span(token(node, 'Data'), body === undefined ? source.loc : tokenRange(token(body, 'RCurly'))),
    };
  }

  private settings(body: Cst.SettingsBodyCstNode): Ast.Setting[] {
    return this.nested(optionalToken(body, 'LCurly'), () => this.settingList(body));
  }

  private settingList(body: Cst.SettingsBodyCstNode | Cst.ScheduleDeclarationCstNode): Ast.Setting[] {
    return keepComplete(childNodes(body, 'setting'), (node) => {
      const values = childNodes(node, 'expression').map((expression) => this.expression(expression));
      const last = values[values.length - 1];
      if (last === undefined) throw new Incomplete('setting without value');
      const nameToken = token(node, 'Identifier');
      return { kind: 'Setting', name: this.identifier(nameToken), values, loc: span(nameToken, last.loc) };
    });
  }

  private layerDefinition(node: Cst.BlockDeclarationCstNode | Cst.HeadDeclarationCstNode, keyword: IToken) {
    const parameterList = optionalChild(node, 'parameterList');
    const params =
      parameterList === undefined
        ? []
        : this.nested(optionalToken(parameterList, 'LParen'), () => keepComplete(childNodes(parameterList, 'parameter'), (p) => this.parameter(p)));
    const body = child(node, 'layerBody');
    return {
      name: this.identifier(token(node, 'Identifier')),
      params,
      body: this.layerItems(body),
      loc: span(keyword, token(body, 'RCurly')),
    };
  }

  private parameter(node: Cst.ParameterCstNode): Ast.ParameterDefinition {
    const nameToken = token(node, 'Identifier');
    const defaultNode = optionalChild(node, 'expression');
    const name = this.identifier(nameToken);
    if (defaultNode === undefined) return { kind: 'ParameterDefinition', name, loc: name.loc };
    const value = this.expression(defaultNode);
    return { kind: 'ParameterDefinition', name, default: value, loc: span(nameToken, value.loc) };
  }

  private network(node: Cst.NetworkDeclarationCstNode): Ast.NetworkDeclaration {
    const sections = keepComplete(childNodes(node, 'section'), (section): Ast.Section => {
      const nameToken = token(section, 'Identifier');
      const body = keepComplete(childNodes(section, 'layerItem'), (item) => this.layerItem(item));
      const last = body[body.length - 1];
      return {
        kind: 'Section',
        name: this.identifier(nameToken),
        body,
        loc: span(nameToken, last === undefined ? token(section, 'Colon') : last.loc),
      };
    });
    return {
      kind: 'Network',
      input: this.expression(child(node, 'expression')),
      sections,
      loc: span(token(node, 'Network'), token(node, 'RCurly')),
    };
  }

  private partition(node: Cst.PartitionDeclarationCstNode): Ast.PartitionDeclaration {
    const hasRange = optionalToken(node, 'DotDot') !== undefined;
    const proxyNode = optionalChild(node, 'layerCall');
    const proxy = proxyNode === undefined ? undefined : this.layerCall(proxyNode);
    const from = this.identifier(token(node, 'Identifier', 1));
    const to = hasRange ? this.identifier(token(node, 'Identifier', 2)) : undefined;
    const last = proxy?.loc ?? to?.loc ?? from.loc;
    return {
      kind: 'Partition',
      name: this.identifier(token(node, 'Identifier', 0)),
      from,
      ...(to === undefined ? {} : { to }),
      ...(proxy === undefined ? {} : { proxy }),
      loc: span(token(node, 'Partition'), last),
    };
  }

  private schedule(node: Cst.ScheduleDeclarationCstNode): Ast.ScheduleDeclaration {
    return {
      kind: 'Schedule',
      settings: this.settingList(node),
      phases: keepComplete(childNodes(node, 'phase'), (phase) => this.phase(phase)),
      loc: span(token(node, 'Schedule'), token(node, 'RCurly')),
    };
  }

  private phase(node: Cst.PhaseCstNode): Ast.PhaseDeclaration {
    const modeToken = optionalToken(node, 'Train') ?? token(node, 'Finetune');
    const mode = modeToken.image === 'train' ? 'train' : 'finetune';
    const target = this.identifier(token(node, 'Identifier', 0));
    if (mode === 'finetune' && target.name !== 'all') {
      this.error(target.loc, `expected 'all' after 'finetune' but found '${target.name}'`);
    }
    const optimizerName = token(node, 'Identifier', 1);
    const argumentList = optionalChild(node, 'argumentList');
    const optimizer: Ast.CallExpression =
      argumentList === undefined
        ? { kind: 'Call', callee: this.identifier(optimizerName), args: [], loc: tokenRange(optimizerName) }
        : this.call(optimizerName, argumentList);
    const body = optionalChild(node, 'settingsBody');
    return {
      kind: 'Phase',
      mode,
      target,
      epochs: this.expression(child(node, 'expression')),
      optimizer,
      settings: body === undefined ? [] : this.settings(body),
      loc: span(modeToken, body === undefined ? optimizer.loc : tokenRange(token(body, 'RCurly'))),
    };
  }

  // ------------------------------------------------------------ layer items

  /** The items of a `{ ... }` layer body, one level deeper. */
  private layerItems(body: Cst.LayerBodyCstNode): Ast.LayerItem[] {
    return this.nested(optionalToken(body, 'LCurly'), () => keepComplete(childNodes(body, 'layerItem'), (item) => this.layerItem(item)));
  }

  private layerItem(node: Cst.LayerItemCstNode): Ast.LayerItem {
    const call = optionalChild(node, 'layerCall');
    if (call !== undefined) return this.layerCall(call);
    const repeat = optionalChild(node, 'repeat');
    if (repeat !== undefined) return this.repeat(repeat);
    return this.residual(child(node, 'residual'));
  }

  private layerCall(node: Cst.LayerCallCstNode): Ast.LayerCall {
    const nameToken = token(node, 'Identifier');
    const argumentList = optionalChild(node, 'argumentList');
    const { args, end } = argumentList === undefined ? { args: [], end: tokenEnd(nameToken) } : this.argumentList(argumentList);
    return { kind: 'LayerCall', callee: this.identifier(nameToken), args, loc: { start: tokenStart(nameToken), end } };
  }

  private repeat(node: Cst.RepeatCstNode): Ast.Repeat {
    return this.nested(optionalToken(node, 'Repeat'), () => this.repeatLevel(node));
  }

  private repeatLevel(node: Cst.RepeatCstNode): Ast.Repeat {
    const count = this.expression(child(node, 'expression'));
    const sharedToken = optionalToken(node, 'Shared');
    let shared: Ast.SharedClause | undefined;
    if (sharedToken !== undefined) {
      const argumentList = optionalChild(node, 'argumentList');
      const { args, end } = argumentList === undefined ? { args: [], end: tokenEnd(sharedToken) } : this.argumentList(argumentList);
      shared = { kind: 'Shared', args, loc: { start: tokenStart(sharedToken), end } };
    }
    const braced = optionalChild(node, 'layerBody');
    let body: Ast.LayerItem[];
    let end: Position;
    if (braced !== undefined) {
      body = this.layerItems(braced);
      end = tokenEnd(token(braced, 'RCurly'));
    } else {
      const item = this.layerItem(child(node, 'layerItem'));
      body = [item];
      end = item.loc.end;
    }
    return {
      kind: 'Repeat',
      count,
      ...(shared === undefined ? {} : { shared }),
      body,
      loc: { start: tokenStart(token(node, 'Repeat')), end },
    };
  }

  private residual(node: Cst.ResidualCstNode): Ast.Residual {
    const argumentList = optionalChild(node, 'argumentList');
    const body = child(node, 'layerBody');
    return {
      kind: 'Residual',
      args: argumentList === undefined ? [] : this.argumentList(argumentList).args,
      body: this.layerItems(body),
      loc: span(token(node, 'Residual'), token(body, 'RCurly')),
    };
  }

  // ------------------------------------------------------------ expressions

  private argumentList(node: Cst.ArgumentListCstNode): { args: Ast.Argument[]; end: Position } {
    return this.nested(optionalToken(node, 'LParen'), () => this.argumentLevel(node));
  }

  private argumentLevel(node: Cst.ArgumentListCstNode): { args: Ast.Argument[]; end: Position } {
    const args = childNodes(node, 'argument').map((argument): Ast.Argument => {
      const value = this.expression(child(argument, 'expression'));
      const nameToken = optionalToken(argument, 'ArgumentName');
      if (nameToken === undefined) return { kind: 'Argument', value, loc: value.loc };
      return { kind: 'Argument', name: this.identifier(nameToken), value, loc: span(nameToken, value.loc) };
    });
    return { args, end: tokenEnd(token(node, 'RParen')) };
  }

  private call(nameToken: IToken, argumentList: Cst.ArgumentListCstNode): Ast.CallExpression {
    const { args, end } = this.argumentList(argumentList);
    return { kind: 'Call', callee: this.identifier(nameToken), args, loc: { start: tokenStart(nameToken), end } };
  }

  private expression(node: Cst.ExpressionCstNode): Ast.Expression {
    return this.binaryChain(childNodes(node, 'product'), () => operatorsInOrder(node, ['Plus', 'Minus']), (operand) => this.product(operand));
  }

  private product(node: Cst.ProductCstNode): Ast.Expression {
    return this.binaryChain(childNodes(node, 'unary'), () => operatorsInOrder(node, ['Star', 'Slash']), (operand) => this.unary(operand));
  }

  /**
   * Folds `a op b op c` to the left: ((a op b) op c). With k operators the first
   * operand sits k levels deeper and operand j >= 1 sits k - j + 1 deeper; a chain too
   * long for its depth is reported at its first operator past the limit.
   */
  private binaryChain<N extends CstNode>(
    operandNodes: readonly N[],
    operatorsOf: () => IToken[],
    buildOperand: (operand: N) => Ast.Expression,
  ): Ast.Expression {
    if (operandNodes.length === 1) return buildOperand(operandNodes[0]!);
    const operators = operatorsOf();
    const chain = operandNodes.length - 1;
    const outer = this.depth;
    if (outer + chain > MAX_NESTING) {
      const opener = operators[MAX_NESTING - outer];
      if (opener !== undefined) this.tooDeep(opener);
    }
    const operands = operandNodes.map((operand, j) => this.at(outer + (j === 0 ? chain : chain - j + 1), undefined, () => buildOperand(operand)));
    let result = operands[0];
    if (result === undefined) throw new Incomplete('missing operand');
    for (let i = 1; i < operands.length; i++) {
      const right = operands[i]!;
      const operator = operators[i - 1];
      if (operator === undefined) throw new Incomplete('missing operator');
      result = { kind: 'Binary', op: operator.image as Ast.BinaryOperator, left: result, right, loc: span(result.loc, right.loc) };
    }
    return result;
  }

  private unary(node: Cst.UnaryCstNode): Ast.Expression {
    const minus = optionalToken(node, 'Minus');
    if (minus === undefined) return this.primary(child(node, 'primary'));
    const operand = this.nested(minus, () => this.unary(child(node, 'unary')));
    return { kind: 'Unary', op: '-', operand, loc: span(minus, operand.loc) };
  }

  private primary(node: Cst.PrimaryCstNode): Ast.Expression {
    const number = optionalToken(node, 'NumberLiteral');
    if (number !== undefined) {
      const loc = tokenRange(number);
      return { kind: 'Number', value: this.finite(Number(number.image), loc), loc };
    }
    const percent = optionalToken(node, 'PercentLiteral');
    if (percent !== undefined) {
      const loc = tokenRange(percent);
      return { kind: 'Percent', value: this.finite(Number(percent.image.slice(0, -1)), loc), loc };
    }
    const string = optionalToken(node, 'StringLiteral');
    if (string !== undefined) return { kind: 'String', value: this.unescape(string), loc: tokenRange(string) };
    const truth = optionalToken(node, 'True') ?? optionalToken(node, 'False');
    if (truth !== undefined) return { kind: 'Boolean', value: truth.image === 'true', loc: tokenRange(truth) };
    const list = optionalChild(node, 'list');
    if (list !== undefined) {
      const items = this.nested(optionalToken(list, 'LBracket'), () => childNodes(list, 'expression').map((item) => this.expression(item)));
      return { kind: 'List', items, loc: span(token(list, 'LBracket'), token(list, 'RBracket')) };
    }
    const parenthesized = optionalChild(node, 'parenthesized');
    if (parenthesized !== undefined) {
      // The parentheses belong to the expression's range, so that enclosing ranges cover them.
      const expression = this.nested(optionalToken(parenthesized, 'LParen'), () => this.expression(child(parenthesized, 'expression')));
      return { ...expression, loc: span(token(parenthesized, 'LParen'), token(parenthesized, 'RParen')) };
    }
    const nameOrCall = optionalChild(node, 'nameOrCall');
    if (nameOrCall !== undefined) {
      const nameToken = token(nameOrCall, 'Identifier');
      const argumentList = optionalChild(nameOrCall, 'argumentList');
      if (argumentList === undefined) return { kind: 'Ref', name: nameToken.image, loc: tokenRange(nameToken) };
      return this.call(nameToken, argumentList);
    }
    // Nothing, or only a token inserted by recovery (already reported).
    throw new Incomplete('empty expression');
  }

  /** Decodes `\"` and `\\`; any other escape is an error (the language has no others). */
  /** `1e999` reads as Infinity, which no printer can write back as a number: refuse it here. */
  private finite(value: number, loc: SourceRange): number {
    if (Number.isFinite(value)) return value;
    this.error(loc, 'number literal is too large: it must be below 1.8e308');
    return 0;
  }

  private unescape(literal: IToken): string {
    const body = literal.image.slice(1, -1);
    return body.replace(/\\(.)/g, (whole, escaped: string, index: number) => {
      const decoded = ESCAPES[escaped];
      if (decoded !== undefined) return decoded;
      const start = tokenStart(literal);
      const offset = 1 + index;
      this.error(
        {
          start: { offset: start.offset + offset, line: start.line, column: start.column + offset },
          end: { offset: start.offset + offset + 2, line: start.line, column: start.column + offset + 2 },
        },
        `unknown escape '${whole}' in a string: only \\" and \\\\ are allowed`,
      );
      return escaped;
    });
  }
}
