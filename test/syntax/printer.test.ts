import { describe, expect, test } from 'vitest';
import type * as Ast from '../../src/syntax/ast.js';
import { NO_RANGE } from '../../src/syntax/location.js';
import { parsePlan } from '../../src/syntax/parse.js';
import { formatSource, printExpression, printPlan } from '../../src/syntax/printer.js';
import { fixture } from './samples.js';

function format(text: string): string {
  const result = formatSource(text, 'fmt.mono');
  expect(result.diagnostics).toEqual([]);
  return result.output!;
}

const lines = (...text: string[]) => `${text.join('\n')}\n`;

describe('printer: expressions', () => {
  const n = (value: number): Ast.Expression => ({ kind: 'Number', value, loc: NO_RANGE });
  const bin = (op: Ast.BinaryOperator, left: Ast.Expression, right: Ast.Expression): Ast.Expression => ({ kind: 'Binary', op, left, right, loc: NO_RANGE });
  const neg = (operand: Ast.Expression): Ast.Expression => ({ kind: 'Unary', op: '-', operand, loc: NO_RANGE });

  test('minimal parentheses that keep the tree', () => {
    expect(printExpression(bin('+', n(1), bin('*', n(2), n(3))))).toBe('1 + 2 * 3');
    expect(printExpression(bin('*', bin('+', n(1), n(2)), n(3)))).toBe('(1 + 2) * 3');
    expect(printExpression(bin('-', bin('-', n(8), n(4)), n(2)))).toBe('8 - 4 - 2');
    expect(printExpression(bin('-', n(8), bin('-', n(4), n(2))))).toBe('8 - (4 - 2)');
    expect(printExpression(bin('+', n(8), bin('+', n(4), n(2))))).toBe('8 + (4 + 2)');
    expect(printExpression(bin('/', n(8), bin('*', n(4), n(2))))).toBe('8 / (4 * 2)');
    expect(printExpression(neg(bin('+', n(1), n(2))))).toBe('-(1 + 2)');
    expect(printExpression(bin('*', neg(n(1)), neg(n(2))))).toBe('-1 * -2');
    expect(printExpression(neg(neg(n(1))))).toBe('--1');
  });

  test('numbers as String(value), percentages, strings re-escaped', () => {
    expect(printExpression(n(5e-4))).toBe('0.0005');
    expect(printExpression(n(1e21))).toBe('1e+21');
    expect(printExpression(n(1e-7))).toBe('1e-7');
    expect(printExpression({ kind: 'Percent', value: 80, loc: NO_RANGE })).toBe('80%');
    expect(printExpression({ kind: 'String', value: 'a "b" \\ c', loc: NO_RANGE })).toBe('"a \\"b\\" \\\\ c"');
  });
});

describe('printer: layout', () => {
  test('declarations separated by blank lines; params and partitions grouped; settings one per line', () => {
    expect(format('plan x param a=1 param b = a*2 data mnist{batch 64 augment crop(pad:4),flip} partition p=s proxy h partition q=t..u')).toBe(
      lines(
        'plan x',
        '',
        'param a = 1',
        'param b = a * 2',
        '',
        'data mnist {',
        '  batch 64',
        '  augment crop(pad: 4), flip',
        '}',
        '',
        'partition p = s proxy h',
        'partition q = t .. u',
      ),
    );
  });

  test('a data block with the test split and the cache source', () => {
    const text = lines('plan x', '', 'data cifar10 {', '  batch 128', '  test true', '}');
    expect(format('plan x data cifar10{batch 128 test true}')).toBe(text);
    expect(format(text)).toBe(text);
    expect(format('plan x data idx("emnist") {test   false}')).toBe(lines('plan x', '', 'data idx("emnist") {', '  test false', '}'));
  });

  test('a body shares one line when it fits and has no braced items', () => {
    expect(format('plan x block b(f,s=1){conv(f,3) bn relu}')).toBe(lines('plan x', '', 'block b(f, s = 1) { conv(f, 3) bn relu }'));
  });

  test('a body with a braced item goes one item per line, unless that item is alone and fits', () => {
    expect(format('plan x block b { residual { conv(8, 3) } relu } block c { repeat 2 { bn relu } }')).toBe(
      lines('plan x', '', 'block b {', '  residual { conv(8, 3) }', '  relu', '}', '', 'block c { repeat 2 { bn relu } }'),
    );
  });

  test('a body longer than 100 columns goes one item per line', () => {
    const items = Array.from({ length: 12 }, (_, i) => `conv(${i + 100}, 3)`).join(' ');
    const output = format(`plan x\nnetwork input [8] { s: ${items} }`);
    expect(output.split('\n').every((line) => line.length <= 100)).toBe(true);
    expect(output).toContain('  s:\n    conv(100, 3)\n    conv(101, 3)\n');
  });

  test('repeat: braces only for several items; shared clause; empty bodies', () => {
    expect(format('plan x network input [1] { a: repeat 3 { relu } b: repeat n shared(scale: 0.5) { bn } c: repeat 2 {} d: residual {} e: }')).toBe(
      lines(
        'plan x',
        '',
        'network input [1] {',
        '  a: repeat 3 relu',
        '  b: repeat n shared(scale: 0.5) bn',
        '  c: repeat 2 {}',
        '  d: residual {}',
        '  e:',
        '}',
      ),
    );
  });

  test('a braceless repeat of a long braced item keeps its header on the first line', () => {
    const items = Array.from({ length: 12 }, (_, i) => `conv(${i + 100}, 3)`).join(' ');
    const output = format(`plan x block b { repeat 2 residual { ${items} } }`);
    expect(output).toContain('block b {\n  repeat 2 residual {\n    conv(100, 3)\n');
    expect(output).toContain('    conv(111, 3)\n  }\n}\n');
  });

  test('phases: epoch for a literal 1, optimizer always called, settings one per line', () => {
    expect(format('plan x schedule { train p for 1 epochs with adam train q for 2 epoch with msgd(lr: 0.1) { lr cosine(to: 0) } finetune all for (1) epochs with sgd(lr: 1) }')).toBe(
      lines(
        'plan x',
        '',
        'schedule {',
        '  train p for 1 epoch with adam()',
        '  train q for 2 epochs with msgd(lr: 0.1) {',
        '    lr cosine(to: 0)',
        '  }',
        '  finetune all for 1 epoch with sgd(lr: 1)',
        '}',
      ),
    );
  });

  test('empty network and schedule bodies; data without settings loses its braces, as a phase does', () => {
    expect(format('plan x data mnist {} network input [1] {} schedule {}')).toBe(
      lines('plan x', '', 'data mnist', '', 'network input [1] {}', '', 'schedule {}'),
    );
  });
});

describe('printer: comments', () => {
  test('own-line and trailing comments keep their places', () => {
    const output = format(fixture('comments.mono'));
    expect(output).toBe(
      lines(
        '// Header comment, before the plan.',
        'plan commented # trailing on the plan line',
        '',
        '# about the params',
        'param a = 1 // trailing on a param',
        'param b = (a + 2) * 3',
        '',
        'block pre(f) {',
        '  # own line inside a short body forces one item per line',
        '  conv(f, 3)',
        '  bn # trailing after two items',
        '  relu',
        '  # just before the closing brace',
        '}',
        '',
        'network input [28, 28, 1] {',
        '  # about stem',
        '  stem: pre(8)',
        '  body:',
        '    repeat 2 {',
        '      conv(8, 3) # inside a repeat',
        '      relu',
        '    }',
        '  out: flatten dense(10) # trailing after a section',
        '}',
        '',
        'schedule {',
        '  train p for 1 epoch with sgd(lr: 0.1, decay: 0) { # an argument comment',
        '    lr step(every: 2)',
        '  }',
        '}',
        '# last words',
      ),
    );
  });

  test('two trailing comments that meet on one printed line do not merge', () => {
    const output = format('plan x\nparam a = f(1, # one\n 2) # two\nparam b = 1');
    expect(output).toBe(lines('plan x', '', 'param a = f(1, 2) # one', '# two', 'param b = 1'));
    expect(parsePlan(output, 'x.mono').plan?.comments.map((c) => c.text)).toEqual(['# one', '# two']);
  });

  test('a plan built in code prints without comments or locations', () => {
    const plan: Ast.Plan = {
      kind: 'Plan',
      name: { kind: 'Identifier', name: 'built', loc: NO_RANGE },
      declarations: [{ kind: 'Param', name: { kind: 'Identifier', name: 'x', loc: NO_RANGE }, value: { kind: 'Number', value: 2, loc: NO_RANGE }, loc: NO_RANGE }],
      comments: [],
      loc: NO_RANGE,
    };
    expect(printPlan(plan)).toBe(lines('plan built', '', 'param x = 2'));
  });
});

describe('formatSource', () => {
  test('gives no output for text with syntax errors', () => {
    const result = formatSource('plan x param = 1', 'bad.mono');
    expect(result.output).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['syntax-error']);
  });

  test('canonical text formats to itself', () => {
    const canonical = format(fixture('small-mnist.mono'));
    expect(format(canonical)).toBe(canonical);
  });
});
