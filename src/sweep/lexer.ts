/**
 * Tokens of the sweep language (a `.sweep` file, and the values of --grid, --random,
 * --set and --seeds), each with its range in the text it came from, so that every
 * problem can be reported at file:line:col with a caret excerpt.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Position, SourceRange } from '../syntax/location.js';
import { sweepError } from './spec.js';

export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'newline' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The text as written (a string token keeps its quotes). */
  text: string;
  range: SourceRange;
}

const IDENT_START = /[A-Za-z_]/;
// '-' inside names: backend names such as node-gpu.
const IDENT_PART = /[A-Za-z0-9_-]/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const PUNCT = new Set(['=', ',', '(', ')', '{', '}', ';']);

/**
 * Splits `text` into tokens. `start` is the position of its first character: a command-line
 * argument is line N of its option's virtual file. Comments (`#` to the end of the line) are
 * dropped; unknown characters and unterminated strings become diagnostics.
 */
export function tokenize(text: string, file: string, start: Position = { offset: 0, line: 1, column: 1 }): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let i = 0;
  let line = start.line;
  let column = start.column;
  const position = (): Position => ({ offset: start.offset + i, line, column });
  const advance = (count: number) => {
    for (let k = 0; k < count; k++) {
      if (text[i] === '\n') {
        line++;
        column = 1;
      } else column++;
      i++;
    }
  };
  const push = (kind: TokenKind, length: number) => {
    const from = position();
    const tokenText = text.slice(i, i + length);
    advance(length);
    tokens.push({ kind, text: tokenText, range: { start: from, end: position() } });
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      push('newline', 1);
    } else if (c === ' ' || c === '\t' || c === '\r') {
      advance(1);
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') advance(1);
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j]!)) j++;
      push('ident', j - i);
    } else if (NUMBER.test(text.slice(i, i + 64)) && (c !== '-' || /[\d.]/.test(text[i + 1] ?? ''))) {
      const match = NUMBER.exec(text.slice(i))!;
      push('number', match[0].length);
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] !== '"') {
        const from = position();
        advance(j - i);
        diagnostics.push(sweepError(file, { start: from, end: position() }, 'unterminated-string', 'unterminated string: a closing " is missing on this line'));
        continue;
      }
      push('string', j + 1 - i);
    } else if (PUNCT.has(c)) {
      push('punct', 1);
    } else {
      const from = position();
      advance(1);
      diagnostics.push(sweepError(file, { start: from, end: position() }, 'unexpected-character', `unexpected character '${c}'`));
    }
  }
  const end = position();
  tokens.push({ kind: 'eof', text: '', range: { start: end, end } });
  return { tokens, diagnostics };
}
