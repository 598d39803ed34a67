import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePlan, SET_FILE } from '../src/compile.js';
import { compile, compileOk, plan, positionOf } from './semantics/helpers.js';

describe('compilePlan', () => {
  it('compiles the shipped plans without errors', () => {
    for (const name of ['quickstart', 'monolithnet', 'mi-lr', 'layerwise-mi', 'shared-ode', 'momentum-anneal']) {
      const path = `plans/${name}.mono`;
      const result = compilePlan(readFileSync(path, 'utf8'), path);
      expect(result.diagnostics.filter((d) => d.severity === 'error'), name).toEqual([]);
      expect(result.ir, name).toBeDefined();
    }
  });

  it('compiles the 437M-parameter plan well under a second, without allocating weights', () => {
    const text = readFileSync('plans/monolithnet.mono', 'utf8');
    compilePlan(text, 'warm-up.mono');
    const start = performance.now();
    const result = compilePlan(text, 'plans/monolithnet.mono');
    const elapsed = performance.now() - start;
    const params = result.ir!.parameters.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(params).toBeGreaterThan(400e6);
    expect(elapsed).toBeLessThan(1000);
  });

  it('is deterministic', () => {
    const text = readFileSync('plans/quickstart.mono', 'utf8');
    expect(compilePlan(text, 'q.mono')).toEqual(compilePlan(text, 'q.mono'));
  });

  it('never throws, on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const result = compilePlan(text, 'fuzz.mono');
        expect(Array.isArray(result.diagnostics)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on token soups of the language', () => {
    const token = fc.constantFrom(
      'plan', 'x', 'param', 'a', '=', '1', '0', '-', '/', '*', '(', ')', '[', ']', '{', '}', ',', ':', '..', 'network', 'input',
      'conv', 'dense', 'relu', 'residual', 'repeat', 'shared', 'block', 'head', 'partition', 'proxy', 'schedule', 'train',
      'finetune', 'all', 'for', 'epochs', 'with', 'msgd', 'lr', 'data', 'synthetic', '8', '3', '"s"', '80%', '\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {
        const result = compilePlan(tokens.join(' '), 'soup.mono');
        expect(result.ir === undefined || result.diagnostics.every((d) => d.severity !== 'error')).toBe(true);
        // A caught exception is still a bug: it must never surface as an internal error.
        for (const d of result.diagnostics) expect(`${d.code} ${d.message}`).not.toMatch(/internal/);
      }),
      { numRuns: 150 },
    );
  });
});

describe('--set overrides', () => {
  it('replaces a param before the params after it are evaluated', () => {
    const ir = compileOk(plan({ params: 'param width = 4\nparam double = width * 2' }), { set: { width: '3' } });
    expect(ir.params).toEqual({ width: 3, double: 6 });
  });

  it('reports an unknown param with a suggestion, in the --set text', () => {
    const result = compile(plan(), { set: { widht: '2' } });
    const diagnostic = result.diagnostics.find((d) => d.code === 'unknown-param')!;
    expect(diagnostic).toMatchObject({ file: SET_FILE, hint: "did you mean 'width'?" });
    expect(diagnostic.range.start).toEqual({ offset: 0, line: 1, column: 1 });
    expect(result.ir).toBeUndefined();
  });

  it('reports a value that is not an expression', () => {
    const result = compile(plan(), { set: { width: '2 +' } });
    expect(result.diagnostics.map((d) => [d.code, d.file])).toEqual([['invalid-set', SET_FILE]]);
    // The parser's own words, at the end of the NAME=VALUE text.
    expect(result.diagnostics[0]!.message).toBe("--set width=2 +: '2 +' is not a mono expression: expected an expression but found end of file");
    expect(result.diagnostics[0]!.range.start).toEqual({ offset: 'width=2 +'.length, line: 1, column: 'width=2 +'.length + 1 });
  });

  it('points a syntax error inside the value at its token in the NAME=VALUE text', () => {
    for (const [value, token, message] of [
      ['2 3', '3', "expected the end of the expression but found '3'"],
      ['[1, 2 $', '$', "unexpected character '$'"],
      ['(4))', ')', "expected the end of the expression but found ')'"],
    ] as const) {
      const result = compile(plan(), { set: { width: value } });
      const text = `width=${value}`;
      expect(result.diagnostics.map((d) => d.code)).toEqual(['invalid-set']);
      const diagnostic = result.diagnostics[0]!;
      expect(diagnostic.message).toContain(message);
      const at = text.lastIndexOf(token);
      expect(diagnostic.range.start).toEqual({ offset: at, line: 1, column: at + 1 });
      expect(diagnostic.range.end.offset).toBe(at + 1);
    }
  });

  it('reports a value of the wrong type where it is used', () => {
    const result = compile(plan(), { set: { width: '"wide"' } });
    expect(result.diagnostics.map((d) => d.code)).toContain('type-mismatch');
  });

  it('points problems inside the value into the NAME=VALUE text', () => {
    const result = compile(plan(), { set: { width: '8 / 0' } });
    const diagnostic = result.diagnostics.find((d) => d.code === 'division-by-zero')!;
    expect(diagnostic.file).toBe(SET_FILE);
    expect(diagnostic.range.start).toMatchObject({ line: 1, column: 'width=8 / '.length + 1 });
  });

  it('accepts strings and booleans for params of those types', () => {
    const text = plan({ params: 'param width = 4\nparam name = "a"\nparam flag = false' });
    expect(compileOk(text, { set: { name: '"b"', flag: 'true' } }).params).toEqual({ width: 4, name: 'b', flag: true });
  });

  it('still reports plan errors with an override applied', () => {
    const text = plan({ params: 'param width = 4' });
    const result = compile(text, { set: { width: '0' } });
    const { line, column } = positionOf(text, 'width, 3');
    const stem = result.diagnostics.find((d) => d.range.start.line === line && d.range.start.column === column);
    expect(stem).toMatchObject({ code: 'value-out-of-range', file: 'plan.mono' });
    expect(result.ir).toBeUndefined();
  });
});
