import { describe, expect, test } from 'vitest';
import { monoLexer } from '../../src/syntax/tokens.js';

function lex(text: string) {
  const result = monoLexer.tokenize(text);
  return {
    kinds: result.tokens.map((t) => `${t.tokenType.name}:${t.image}`),
    comments: (result.groups['comments'] ?? []).map((t) => t.image),
    errors: result.errors,
  };
}

describe('lexer', () => {
  test('keywords are reserved, but names that merely start with one are identifiers', () => {
    expect(lex('plan planner epochs epoch epochs2 format for residual_1 shared').kinds).toEqual([
      'Plan:plan',
      'Identifier:planner',
      'Epochs:epochs',
      'Epoch:epoch',
      'Identifier:epochs2',
      'Identifier:format',
      'For:for',
      'Identifier:residual_1',
      'Shared:shared',
    ]);
  });

  test('words that the spec leaves open are identifiers', () => {
    expect(lex('all lr mi same relu').kinds.every((k) => k.startsWith('Identifier:'))).toBe(true);
  });

  test('numbers with fractions and exponents, and percentages', () => {
    expect(lex('3 0.1 1e-3 5e-4 1e+21 2E5 80% 12.5%').kinds).toEqual([
      'NumberLiteral:3',
      'NumberLiteral:0.1',
      'NumberLiteral:1e-3',
      'NumberLiteral:5e-4',
      'NumberLiteral:1e+21',
      'NumberLiteral:2E5',
      'PercentLiteral:80%',
      'PercentLiteral:12.5%',
    ]);
  });

  test('a minus sign is its own token, so `2-1` is a subtraction', () => {
    expect(lex('2-1 -x').kinds).toEqual(['NumberLiteral:2', 'Minus:-', 'NumberLiteral:1', 'Minus:-', 'Identifier:x']);
  });

  test('ranges and punctuation', () => {
    expect(lex('a .. b ( ) [ ] { } , : = + * /').kinds).toEqual([
      'Identifier:a', 'DotDot:..', 'Identifier:b', 'LParen:(', 'RParen:)', 'LBracket:[', 'RBracket:]',
      'LCurly:{', 'RCurly:}', 'Comma:,', 'Colon::', 'Equals:=', 'Plus:+', 'Star:*', 'Slash:/',
    ]);
  });

  test('strings keep their escapes for the AST builder to decode', () => {
    expect(lex('"a \\"b\\" \\\\ c"').kinds).toEqual(['StringLiteral:"a \\"b\\" \\\\ c"']);
  });

  test('both comment styles are kept apart from the tokens, up to the end of the line', () => {
    const result = lex('a # one / two\nb // three # four\r\nc / d');
    expect(result.kinds).toEqual(['Identifier:a', 'Identifier:b', 'Identifier:c', 'Slash:/', 'Identifier:d']);
    expect(result.comments).toEqual(['# one / two', '// three # four']);
  });

  test('unknown characters and unterminated strings are lexing errors with positions', () => {
    const result = lex('a $ b\n"open');
    expect(result.errors.map((e) => [e.line, e.column, e.length])).toEqual([
      [1, 3, 1],
      [2, 1, 1],
    ]);
  });
});
