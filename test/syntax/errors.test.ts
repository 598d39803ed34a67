import { describe, expect, test } from 'vitest';
import { parsePlan } from '../../src/syntax/parse.js';
import { rangeProblem } from './positions.js';

/** `line:col message` for each diagnostic, after checking its range against the text. */
function errors(text: string): string[] {
  const { diagnostics } = parsePlan(text, 'bad.mono');
  for (const d of diagnostics) {
    expect(d.severity).toBe('error');
    expect(d.code).toBe('syntax-error');
    expect(d.file).toBe('bad.mono');
    expect(rangeProblem(text, d.range), d.message).toBeUndefined();
  }
  return diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`);
}

describe('syntax errors', () => {
  test('several errors in one file are all reported, in order, with their line:col', () => {
    const text = 'plan t\nblock b(f { conv(f, 3 relu }\nparam = 3\nnetwork input [1] { a: relu( b: bn }';
    expect(errors(text)).toEqual([
      "2:11 expected ')' but found '{'",
      "2:23 expected ')' but found 'relu'",
      "3:7 expected a name but found '='",
      "4:36 expected ')' but found '}'",
    ]);
  });

  test('errors in a network and in a schedule', () => {
    const text = [
      'plan t',
      'network input [1] {',
      '  a: conv(3,, 4)',
      '  b: relu',
      '}',
      'schedule {',
      '  train p for 3 epochs msgd(lr: 1)',
      '  train q 3 epochs with sgd(lr: 1)',
      '}',
    ].join('\n');
    expect(errors(text)).toEqual([
      "3:13 expected an expression but found ','",
      "7:24 expected 'with' but found 'msgd'",
      "8:11 expected 'for' but found '3'",
    ]);
  });

  test('a missing operand, setting value or range end', () => {
    expect(errors('plan t\nparam a = 1 +\nparam b = 2')).toEqual(["3:1 expected an expression but found 'param'"]);
    expect(errors('plan t\ndata mnist { batch }')).toEqual(["2:20 expected an expression but found '}'"]);
  });

  test('the end of the file is reported at the position just past the text', () => {
    expect(errors('')).toEqual(["1:1 expected 'plan' but found end of file"]);
    expect(errors('plan\n')).toEqual(['2:1 expected a name but found end of file']);
    expect(errors('plan t\npartition p = a ..\n')).toEqual(['3:1 expected a name but found end of file']);
  });

  test('stray tokens between declarations', () => {
    expect(errors('plan t\nblock b { conv(3) } }\nparam y = 2')).toEqual([
      "2:21 expected a declaration (param, data, block, head, network, partition or schedule) but found '}'",
    ]);
    expect(errors('plan t\nfinetune')).toEqual([
      "2:1 expected a declaration (param, data, block, head, network, partition or schedule) but found 'finetune'",
    ]);
  });

  test('lexing errors: unknown characters and unterminated strings', () => {
    expect(errors('plan t\nparam y = 2 $$ 3\nparam s = "open\n')).toEqual([
      "2:13 unexpected characters '$$'",
      // The lexer drops `$$`, which leaves a stray `3`.
      "2:16 expected a declaration (param, data, block, head, network, partition or schedule) but found '3'",
      '3:11 unterminated string: a string must close with " on the same line',
    ]);
  });

  test('string escapes other than \\" and \\\\ are errors at the escape', () => {
    expect(errors('plan t\nparam x = "a\\n"')).toEqual(['2:13 unknown escape \'\\n\' in a string: only \\" and \\\\ are allowed']);
  });

  test('finetune applies to all', () => {
    expect(errors('plan t\nschedule { finetune p1 for 2 epochs with sgd(lr: 1) }')).toEqual([
      "2:21 expected 'all' after 'finetune' but found 'p1'",
    ]);
  });

  test('a partial plan keeps the declarations that parsed', () => {
    const { plan } = parsePlan('plan t\nparam a = 1\nblock b( { relu }\nparam c = 2', 'bad.mono');
    expect(plan?.declarations.map((d) => d.kind)).toContain('Param');
    expect(plan?.name.name).toBe('t');
  });

  test('a number literal too large for a double is an error, not Infinity', () => {
    expect(errors('plan t\nparam a = 1e999\nparam b = 5e999%')).toEqual([
      '2:11 number literal is too large: it must be below 1.8e308',
      '3:11 number literal is too large: it must be below 1.8e308',
    ]);
  });

  test('never throws on hostile input', () => {
    for (const text of ['\u0000', '}}}}', '((((((((', 'plan t ' + 'repeat 2 '.repeat(200), '"\\', 'plan t\r\nparam\r\n= #x\r1']) {
      expect(() => errors(text)).not.toThrow();
    }
  });
});
