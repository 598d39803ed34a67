/**
 * Turns the parser's concrete syntax tree into the AST of ast.ts. Locations come
 * from the tokens: 1-based line and column, 0-based offset, end exclusive.
 *
 * After a syntax error the CST may lack pieces. A declaration or layer item that
 * is incomplete is left out, so that a partial plan is still well formed.
 */
import type { CstElement, CstNode, IToken } from './chevrotain.js';
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

// These helpers avoid intermediate arrays: plans with 10,000 blocks pass through here.
function tokensOf(node: CstNode, name: string): IToken[] {
  const found: IToken[] = [];
  for (const element of node.children[name] ?? []) if (isToken(element) && usable(element)) found.push(element);
  return found;
}

function nthToken(node: CstNode, name: string, index: number): IToken | undefined {
  let seen = 0;
  for (const element of node.children[name] ?? []) {
    if (isToken(element) && usable(element) && seen++ === index) return element;
  }
  return undefined;
}

function token(node: CstNode, name: string, index = 0): IToken {
  const found = nthToken(node, name, index);
  if (found === undefined) throw new Incomplete(`missing ${name}`);
  return found;
}

function optionalToken(node: CstNode, name: string): IToken | undefined {
  return nthToken(node, name, 0);
}

function childNodes(node: CstNode, name: string): CstNode[] {
  const found: CstNode[] = [];
  for (const element of node.children[name] ?? []) if (!isToken(element)) found.push(element);
  return found;
}

function optionalChild(node: CstNode, name: string): CstNode | undefined {
  for (const element of node.children[name] ?? []) if (!isToken(element)) return element;
  return undefined;
}

function child(node: CstNode, name: string): CstNode {
  const found = optionalChild(node, name);
  if (found === undefined) throw new Incomplete(`missing ${name}`);
  return found;
}

/** The single element of a rule that holds one alternative (declaration, primary). */
function onlyElement(node: CstNode): CstElement | undefined {
  for (const name in node.children) {
    const first = node.children[name]?.[0];
    if (first !== undefined) return first;
  }
  return undefined;
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
function operatorsInOrder(node: CstNode, names: readonly string[]): IToken[] {
  if (names.every((name) => node.children[name] === undefined)) return [];
  return names.flatMap((name) => tokensOf(node, name)).sort((a, b) => a.startOffset - b.startOffset);
}

function keepComplete<T>(items: readonly CstNode[], build: (node: CstNode) => T): T[] {
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
  plan(cst: CstNode): Ast.Plan | undefined {
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

  private declaration(node: CstNode): Ast.Declaration {
    const inner = onlyElement(node);
    if (inner === undefined || isToken(inner)) throw new Incomplete('empty declaration');
    switch (inner.name) {
      case 'paramDeclaration':
        return this.param(inner);
      case 'dataDeclaration':
        return this.data(inner);
      case 'blockDeclaration':
        return { kind: 'Block', ...this.layerDefinition(inner, 'Block') };
      case 'headDeclaration':
        return { kind: 'Head', ...this.layerDefinition(inner, 'Head') };
      case 'networkDeclaration':
        return this.network(inner);
      case 'partitionDeclaration':
        return this.partition(inner);
      case 'scheduleDeclaration':
        return this.schedule(inner);
      default:
        throw new Incomplete(`unknown declaration ${inner.name}`);
    }
  }

  private param(node: CstNode): Ast.ParamDeclaration {
    const value = this.expression(child(node, 'expression'));
    return {
      kind: 'Param',
      name: this.identifier(token(node, 'Identifier')),
      value,
      loc: span(token(node, 'Param'), value.loc),
    };
  }

  private data(node: CstNode): Ast.DataDeclaration {
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

  private settings(body: CstNode): Ast.Setting[] {
    return this.nested(optionalToken(body, 'LCurly'), () => this.settingList(body));
  }

  private settingList(body: CstNode): Ast.Setting[] {
    return keepComplete(childNodes(body, 'setting'), (node) => {
      const values = childNodes(node, 'expression').map((expression) => this.expression(expression));
      const last = values[values.length - 1];
      if (last === undefined) throw new Incomplete('setting without value');
      const nameToken = token(node, 'Identifier');
      return { kind: 'Setting', name: this.identifier(nameToken), values, loc: span(nameToken, last.loc) };
    });
  }

  private layerDefinition(node: CstNode, keyword: 'Block' | 'Head') {
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
      loc: span(token(node, keyword), token(body, 'RCurly')),
    };
  }

  private parameter(node: CstNode): Ast.ParameterDefinition {
    const nameToken = token(node, 'Identifier');
    const defaultNode = optionalChild(node, 'expression');
    const name = this.identifier(nameToken);
    if (defaultNode === undefined) return { kind: 'ParameterDefinition', name, loc: name.loc };
    const value = this.expression(defaultNode);
    return { kind: 'ParameterDefinition', name, default: value, loc: span(nameToken, value.loc) };
  }

  private network(node: CstNode): Ast.NetworkDeclaration {
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

  private partition(node: CstNode): Ast.PartitionDeclaration {
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

  private schedule(node: CstNode): Ast.ScheduleDeclaration {
    return {
      kind: 'Schedule',
      phases: keepComplete(childNodes(node, 'phase'), (phase) => this.phase(phase)),
      loc: span(token(node, 'Schedule'), token(node, 'RCurly')),
    };
  }

  private phase(node: CstNode): Ast.PhaseDeclaration {
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
  private layerItems(body: CstNode): Ast.LayerItem[] {
    return this.nested(optionalToken(body, 'LCurly'), () => keepComplete(childNodes(body, 'layerItem'), (item) => this.layerItem(item)));
  }

  private layerItem(node: CstNode): Ast.LayerItem {
    const call = optionalChild(node, 'layerCall');
    if (call !== undefined) return this.layerCall(call);
    const repeat = optionalChild(node, 'repeat');
    if (repeat !== undefined) return this.repeat(repeat);
    return this.residual(child(node, 'residual'));
  }

  private layerCall(node: CstNode): Ast.LayerCall {
    const nameToken = token(node, 'Identifier');
    const argumentList = optionalChild(node, 'argumentList');
    const { args, end } = argumentList === undefined ? { args: [], end: tokenEnd(nameToken) } : this.argumentList(argumentList);
    return { kind: 'LayerCall', callee: this.identifier(nameToken), args, loc: { start: tokenStart(nameToken), end } };
  }

  private repeat(node: CstNode): Ast.Repeat {
    return this.nested(optionalToken(node, 'Repeat'), () => this.repeatLevel(node));
  }

  private repeatLevel(node: CstNode): Ast.Repeat {
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

  private residual(node: CstNode): Ast.Residual {
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

  private argumentList(node: CstNode): { args: Ast.Argument[]; end: Position } {
    return this.nested(optionalToken(node, 'LParen'), () => this.argumentLevel(node));
  }

  private argumentLevel(node: CstNode): { args: Ast.Argument[]; end: Position } {
    const args = childNodes(node, 'argument').map((argument): Ast.Argument => {
      const value = this.expression(child(argument, 'expression'));
      const nameToken = optionalToken(argument, 'ArgumentName');
      if (nameToken === undefined) return { kind: 'Argument', value, loc: value.loc };
      return { kind: 'Argument', name: this.identifier(nameToken), value, loc: span(nameToken, value.loc) };
    });
    return { args, end: tokenEnd(token(node, 'RParen')) };
  }

  private call(nameToken: IToken, argumentList: CstNode): Ast.CallExpression {
    const { args, end } = this.argumentList(argumentList);
    return { kind: 'Call', callee: this.identifier(nameToken), args, loc: { start: tokenStart(nameToken), end } };
  }

  expression(node: CstNode): Ast.Expression {
    return this.binaryChain(node, 'product', ['Plus', 'Minus'], (operand) => this.product(operand));
  }

  private product(node: CstNode): Ast.Expression {
    return this.binaryChain(node, 'unary', ['Star', 'Slash'], (operand) => this.unary(operand));
  }

  /**
   * Folds `a op b op c` to the left: ((a op b) op c). With k operators the first
   * operand sits k levels deeper and operand j >= 1 sits k - j + 1 deeper; a chain too
   * long for its depth is reported at its first operator past the limit.
   */
  private binaryChain(
    node: CstNode,
    operandName: string,
    operatorNames: readonly string[],
    buildOperand: (operand: CstNode) => Ast.Expression,
  ): Ast.Expression {
    const operandNodes = childNodes(node, operandName);
    if (operandNodes.length === 1) return buildOperand(operandNodes[0]!);
    const operators = operatorsInOrder(node, operatorNames);
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

  private unary(node: CstNode): Ast.Expression {
    const minus = optionalToken(node, 'Minus');
    if (minus === undefined) return this.primary(child(node, 'primary'));
    const operand = this.nested(minus, () => this.unary(child(node, 'unary')));
    return { kind: 'Unary', op: '-', operand, loc: span(minus, operand.loc) };
  }

  private primary(node: CstNode): Ast.Expression {
    const inner = onlyElement(node);
    if (inner === undefined) throw new Incomplete('empty expression');
    if (isToken(inner)) {
      if (!usable(inner)) throw new Incomplete('recovered token');
      const loc = tokenRange(inner);
      switch (inner.tokenType.name) {
        case 'NumberLiteral':
          return { kind: 'Number', value: this.finite(Number(inner.image), loc), loc };
        case 'PercentLiteral':
          return { kind: 'Percent', value: this.finite(Number(inner.image.slice(0, -1)), loc), loc };
        case 'StringLiteral':
          return { kind: 'String', value: this.unescape(inner), loc };
        case 'True':
          return { kind: 'Boolean', value: true, loc };
        case 'False':
          return { kind: 'Boolean', value: false, loc };
        default:
          throw new Incomplete(`unexpected token ${inner.tokenType.name}`);
      }
    }
    switch (inner.name) {
      case 'list': {
        const items = this.nested(optionalToken(inner, 'LBracket'), () => childNodes(inner, 'expression').map((item) => this.expression(item)));
        return { kind: 'List', items, loc: span(token(inner, 'LBracket'), token(inner, 'RBracket')) };
      }
      case 'parenthesized': {
        // The parentheses belong to the expression's range, so that enclosing ranges cover them.
        const expression = this.nested(optionalToken(inner, 'LParen'), () => this.expression(child(inner, 'expression')));
        return { ...expression, loc: span(token(inner, 'LParen'), token(inner, 'RParen')) };
      }
      case 'nameOrCall': {
        const nameToken = token(inner, 'Identifier');
        const argumentList = optionalChild(inner, 'argumentList');
        if (argumentList === undefined) return { kind: 'Ref', name: nameToken.image, loc: tokenRange(nameToken) };
        return this.call(nameToken, argumentList);
      }
      default:
        throw new Incomplete(`unknown expression ${inner.name}`);
    }
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
