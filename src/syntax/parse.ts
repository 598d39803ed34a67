/**
 * The front door of the syntax stage: text in, AST and diagnostics out. It never
 * throws: lexer and parser errors become `syntax-error` diagnostics whose ranges
 * lie inside the text, and a partial plan comes back when recovery allows.
 */
import type { ILexingError, IRecognitionException, IToken } from './chevrotain.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Comment, Expression, Plan } from './ast.js';
import { AstBuilder, nestingDiagnostic, tokenRange } from './build-ast.js';
import type { Position, SourceRange } from './location.js';
import { monoParser, NestingTooDeep } from './parser.js';
import { monoLexer } from './tokens.js';

export interface ParseResult {
  plan: Plan | undefined;
  diagnostics: Diagnostic[];
}

export interface ExpressionParseResult {
  expression: Expression | undefined;
  diagnostics: Diagnostic[];
}

const TEXT_START: Position = { offset: 0, line: 1, column: 1 };

/** The position just past the last character of `text`. */
function endOfText(text: string): Position {
  const lines = text.split(/\r\n|\r|\n/);
  const last = lines[lines.length - 1] ?? '';
  return { offset: text.length, line: lines.length, column: last.length + 1 };
}

function syntaxError(file: string, range: SourceRange, message: string): Diagnostic {
  return { severity: 'error', code: 'syntax-error', message, file, range };
}

/** `position` of a text that begins at `start` of the file: lines move down, and columns of its first line move right. */
function shiftPosition(position: Position, start: Position): Position {
  return {
    offset: position.offset + start.offset,
    line: position.line + start.line - 1,
    column: position.line === 1 ? position.column + start.column - 1 : position.column,
  };
}

/** Moves lexed tokens to where their text begins in the file, so every location built from them is the file's. */
function shiftTokens(tokens: IToken[], start: Position): void {
  if (start.offset === 0 && start.line === 1 && start.column === 1) return;
  for (const token of tokens) {
    const firstLine = token.startLine === 1;
    const endsOnFirstLine = token.endLine === 1;
    token.startOffset += start.offset;
    if (token.endOffset !== undefined) token.endOffset += start.offset;
    if (token.startLine !== undefined) token.startLine += start.line - 1;
    if (token.endLine !== undefined) token.endLine += start.line - 1;
    if (firstLine && token.startColumn !== undefined) token.startColumn += start.column - 1;
    if (endsOnFirstLine && token.endColumn !== undefined) token.endColumn += start.column - 1;
  }
}

function lexingDiagnostic(text: string, file: string, error: ILexingError, start: Position = TEXT_START): Diagnostic {
  const skipped = text.slice(error.offset, error.offset + error.length);
  const line = error.line ?? 1;
  const column = error.column ?? 1;
  const range: SourceRange = {
    start: shiftPosition({ offset: error.offset, line, column }, start),
    end: shiftPosition({ offset: error.offset + error.length, line, column: column + error.length }, start),
  };
  let message: string;
  if (skipped.startsWith('"')) message = 'unterminated string: a string must close with " on the same line';
  else if (skipped.length === 1) message = `unexpected character '${skipped}'`;
  else message = `unexpected characters '${skipped}'`;
  return syntaxError(file, range, message);
}

function parsingDiagnostic(text: string, file: string, error: IRecognitionException, start: Position = TEXT_START): Diagnostic {
  const token: IToken = error.token;
  const atEnd = !Number.isFinite(token.startOffset) || token.tokenType.name === 'EOF';
  const end = shiftPosition(endOfText(text), start);
  const range = atEnd ? { start: end, end } : tokenRange(token);
  return syntaxError(file, range, error.message);
}

function toComment(token: IToken): Comment {
  return { kind: 'Comment', text: token.image, loc: tokenRange(token) };
}

export function parsePlan(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  try {
    const lexed = monoLexer.tokenize(text);
    diagnostics.push(...lexed.errors.map((error) => lexingDiagnostic(text, file, error)));
    monoParser.input = lexed.tokens;
    const cst = monoParser.plan();
    diagnostics.push(...monoParser.errors.map((error) => parsingDiagnostic(text, file, error)));
    // Let go of the tokens: the shared parser would otherwise keep them alive through the later stages.
    monoParser.input = [];
    const builder = new AstBuilder(file);
    // Chevrotain gives back no tree at all when the top rule fails without recovery.
    const plan = cst === undefined ? undefined : builder.plan(cst);
    diagnostics.push(...builder.diagnostics);
    if (plan !== undefined) plan.comments = (lexed.groups['comments'] ?? []).map(toComment);
    return { plan, diagnostics: dedupe(diagnostics) };
  } catch (error) {
    monoParser.input = [];
    if (error instanceof NestingTooDeep) {
      diagnostics.push(nestingDiagnostic(file, error.token));
      return { plan: undefined, diagnostics: dedupe(diagnostics) };
    }
    // A bug in this stage must not crash the tools: report it as a diagnostic instead.
    const start: Position = { offset: 0, line: 1, column: 1 };
    const reason = error instanceof Error ? error.message : String(error);
    diagnostics.push(syntaxError(file, { start, end: start }, `internal error while parsing: ${reason}`));
    return { plan: undefined, diagnostics };
  }
}

/**
 * Parses `text` as one expression, with the parser's `expression` rule as the top
 * rule: `--set width=2 * 4` gives its VALUE here. `start` is where the text begins
 * in `file`, so that the expression's locations and the diagnostics point into the
 * file (for --set, the `NAME=VALUE` text: VALUE begins after `NAME=`). Text left
 * after the expression is a syntax error. Never throws.
 */
export function parseExpression(text: string, file: string, start: Position = TEXT_START): ExpressionParseResult {
  const diagnostics: Diagnostic[] = [];
  try {
    const lexed = monoLexer.tokenize(text);
    diagnostics.push(...lexed.errors.map((error) => lexingDiagnostic(text, file, error, start)));
    shiftTokens(lexed.tokens, start);
    monoParser.input = lexed.tokens;
    const cst = monoParser.expression();
    diagnostics.push(
      ...monoParser.errors.map((error) =>
        error.name === 'NotAllInputParsedException'
          ? syntaxError(file, tokenRange(error.token), `expected the end of the expression but found '${error.token.image}'`)
          : parsingDiagnostic(text, file, error, start),
      ),
    );
    monoParser.input = [];
    const builder = new AstBuilder(file);
    const expression = cst === undefined ? undefined : builder.standaloneExpression(cst);
    diagnostics.push(...builder.diagnostics);
    return { expression, diagnostics: dedupe(diagnostics) };
  } catch (error) {
    monoParser.input = [];
    if (error instanceof NestingTooDeep) {
      diagnostics.push(nestingDiagnostic(file, error.token));
      return { expression: undefined, diagnostics: dedupe(diagnostics) };
    }
    const reason = error instanceof Error ? error.message : String(error);
    diagnostics.push(syntaxError(file, { start, end: start }, `internal error while parsing: ${reason}`));
    return { expression: undefined, diagnostics };
  }
}

/** Recovery can report the same problem twice at one spot; keep the first. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics
    .filter((d) => {
      const key = `${d.range.start.offset}:${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.range.start.offset - b.range.start.offset);
}
