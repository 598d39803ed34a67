import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseExpression, parsePlan } from '../../src/syntax/parse.js';
import { printExpression } from '../../src/syntax/printer.js';
import { expressionArbitrary, stripLocations } from '../support/ast-arbitraries.js';

describe('parseExpression (the expression rule as the top rule)', () => {
  test.prop([expressionArbitrary], { numRuns: 100 })('print then parse gives back the same expression', (expression) => {
    const text = printExpression(expression);
    const parsed = parseExpression(text, 'x');
    expect(parsed.diagnostics, text).toEqual([]);
    expect(stripLocations(parsed.expression)).toEqual(stripLocations(expression));
  });

  test.prop([expressionArbitrary, fc.nat({ max: 3 }), fc.nat({ max: 20 })], { numRuns: 60 })(
    'with a start position, locations are those the same text has inside a plan',
    (expression, lines, indent) => {
      const text = printExpression(expression);
      const prefix = `plan p\n${'\n'.repeat(lines)}param x = ${' '.repeat(indent)}`;
      const inPlan = parsePlan(prefix + text, 'x');
      const declaration = inPlan.plan?.declarations[0];
      expect(declaration?.kind).toBe('Param');
      const lastLine = prefix.slice(prefix.lastIndexOf('\n') + 1);
      const start = { offset: prefix.length, line: prefix.split('\n').length, column: lastLine.length + 1 };
      const alone = parseExpression(text, 'x', start);
      expect(alone.expression).toEqual(declaration?.kind === 'Param' ? declaration.value : undefined);
    },
  );

  it('reports text after the expression, and errors at the shifted position', () => {
    const start = { offset: 6, line: 1, column: 7 };
    const trailing = parseExpression('2 * 3 x', '--set', start);
    expect(trailing.diagnostics.map((d) => [d.message, d.range.start.column])).toEqual([["expected the end of the expression but found 'x'", 7 + 6]]);
    const unfinished = parseExpression('[1, 2', '--set', start);
    expect(unfinished.diagnostics[0]!.range.start).toEqual({ offset: 6 + 5, line: 1, column: 7 + 5 });
    const lexing = parseExpression('1 ? 2', '--set', start);
    expect(lexing.diagnostics[0]).toMatchObject({ message: "unexpected character '?'", range: { start: { offset: 8, column: 9 } } });
  });

  it('keeps the nesting limit', () => {
    const deep = parseExpression('('.repeat(100) + '1' + ')'.repeat(100), 'x');
    expect(deep.expression).toBeUndefined();
    expect(deep.diagnostics.map((d) => d.code)).toEqual(['nesting-too-deep']);
  });
});
