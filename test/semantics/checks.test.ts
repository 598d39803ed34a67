import { describe, expect, it } from 'vitest';
import { compile, expectDiagnostic, plan } from './helpers.js';

describe('names', () => {
  it('reports an unknown layer with a suggestion', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: cnov(4, 3) bn relu\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'unknown-layer', message: "unknown layer or block 'cnov'", at: 'cnov', hint: "did you mean 'conv'?" });
  });

  it('suggests a block for a misspelled block call', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basci(4)\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'unknown-layer', at: 'basci', hint: "did you mean 'basic'?" });
  });

  it('reports an unknown reference with the params in scope as suggestions', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(widht, 3)\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'unknown-name', message: "unknown name 'widht'", at: 'widht', hint: "did you mean 'width'?" });
  });

  it('reports an unknown argument name', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3, strid: 2)\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'unknown-argument', message: "conv has no argument 'strid'", at: 'strid:', hint: "did you mean 'stride'?" });
  });

  it('reports an unknown block argument name', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basic(4, strde: 1)\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'unknown-argument', at: 'strde', hint: "did you mean 'stride'?" });
  });

  it('reports a head used as a layer', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basic(4)\n  out: gap(10)\n}' });
    expectDiagnostic(text, { code: 'head-as-layer', at: 'gap(10)\n' });
  });

  it('reports an unknown head and an unknown section in a partition', () => {
    const text = plan({ partitions: 'partition p1 = stem .. stage2 proxy gpa(10)\npartition p2 = out' });
    expectDiagnostic(text, { code: 'unknown-head', at: 'gpa', hint: "did you mean 'gap'?" });
    expectDiagnostic(text, { code: 'unknown-section', at: 'stage2', hint: "did you mean 'stage1'?" });
  });
});

describe('arguments', () => {
  const withStem = (stem: string) => plan({ network: `network input [8, 8, 3] {\n  stem: ${stem}\n  stage1: basic(4)\n  out: global_avg_pool dense(10)\n}` });

  it('reports a missing required argument at the callee', () => {
    const text = withStem('conv(4)');
    expectDiagnostic(text, { code: 'missing-argument', message: "conv is missing the required argument 'kernel'", at: 'conv(4)' });
  });

  it('reports too many arguments at the first extra one', () => {
    const text = withStem('conv(4, 3) relu(7)');
    expectDiagnostic(text, { code: 'too-many-arguments', message: 'relu takes at most 0 argument(s)', at: '7)' });
  });

  it('reports an argument given twice', () => {
    const text = withStem('conv(4, 3, filters: 8)');
    expectDiagnostic(text, { code: 'duplicate-argument', message: "argument 'filters' of conv is given twice", at: 'filters:' });
  });

  it('wants integers where integers are needed', () => {
    const text = withStem('conv(4.5, 3)');
    expectDiagnostic(text, { code: 'value-out-of-range', message: "conv argument 'filters' expects a positive integer, but got 4.5", at: '4.5' });
  });

  it('wants a number, not a string', () => {
    const text = withStem('conv("four", 3)');
    expectDiagnostic(text, { code: 'type-mismatch', message: 'expects a positive integer, but got the string "four"', at: '"four"' });
  });

  it('checks enumerated words and suggests the closest', () => {
    const text = withStem('conv(4, 3, padding: sme)');
    expectDiagnostic(text, { code: 'unknown-value', message: 'expects one of same, valid', at: 'sme', hint: "did you mean 'same'?" });
  });

  it('checks the init word of conv, dense and residual', () => {
    expectDiagnostic(withStem('conv(4, 3, init: fan_in_unifrom)'), { code: 'unknown-value', message: 'expects one of he_normal, fan_in_uniform', at: 'fan_in_unifrom', hint: "did you mean 'fan_in_uniform'?" });
    expectDiagnostic(withStem('conv(4, 3) residual(init: glorot) { conv(8, 3, stride: 2) }'), { code: 'unknown-value', message: 'expects one of he_normal, fan_in_uniform', at: 'glorot' });
  });

  it('points a bad block argument at the call site', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basic(0)\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'value-out-of-range', message: "'filters' expects a positive integer, but got 0", at: '0)\n' });
  });

  it('reports a missing block argument', () => {
    const text = plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: basic()\n  out: global_avg_pool dense(10)\n}' });
    expectDiagnostic(text, { code: 'missing-argument', message: "block 'basic' is missing the required argument 'f'", at: 'basic()' });
  });
});

describe('definitions', () => {
  it('reports duplicate params, blocks, heads, sections and partitions', () => {
    expectDiagnostic(plan({ params: 'param width = 4\nparam width = 8' }), { code: 'duplicate-definition', message: "param 'width' is already defined on line 2", at: 'width', occurrence: 2 });
    expectDiagnostic(plan({ blocks: 'block basic(f) { conv(f, 3) }\nblock basic(f) { conv(f, 1) }\nhead gap(c) { global_avg_pool dense(c) }' }), {
      code: 'duplicate-definition',
      message: "block 'basic' is already defined",
      at: 'basic',
      occurrence: 2,
    });
    expectDiagnostic(
      plan({ network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stem: conv(4, 3)\n  out: global_avg_pool dense(10)\n}', partitions: 'partition p1 = stem .. out' }),
      { code: 'duplicate-definition', message: "section 'stem' is already defined on line", at: 'stem:', occurrence: 2 },
    );
    expectDiagnostic(plan({ partitions: 'partition p1 = stem .. stage1 proxy gap(10)\npartition p1 = out' }), { code: 'duplicate-definition', at: 'p1 = out' });
  });

  it('reports duplicate block parameters and a required parameter after a default', () => {
    const text = plan({ blocks: 'block basic(f, f) { conv(f, 3) }\nblock other(a = 1, b) { relu }\nhead gap(classes) { global_avg_pool dense(classes) }' });
    expectDiagnostic(text, { code: 'duplicate-parameter', at: 'f)', occurrence: 1 });
    expectDiagnostic(text, { code: 'required-after-default', at: 'b)' });
  });

  it('reports a block named like a built-in layer', () => {
    expectDiagnostic(plan({ blocks: 'block conv(f) { relu }\nblock basic(f) { relu }\nhead gap(c) { global_avg_pool dense(c) }' }), { code: 'reserved-name', at: 'conv(f)' });
  });

  it('reports a plan without a network, and a second network', () => {
    expectDiagnostic('plan empty\nparam a = 1\n', { code: 'missing-network', at: 'empty' });
    const text = plan();
    const doubled = `${text}network input [4] { a: dense(2) }\n`;
    expectDiagnostic(doubled, { code: 'duplicate-network', at: 'network input [4]' });
  });

  it('reports a recursive cycle once, with its path', () => {
    const text = plan({
      blocks: 'block a(f) { b(f) }\nblock b(f) { c(f) }\nblock c(f) { a(f) relu }\nblock basic(f) { relu }\nhead gap(c) { global_avg_pool dense(c) }',
      network: 'network input [8, 8, 3] {\n  stem: conv(4, 3)\n  stage1: a(4)\n  out: global_avg_pool dense(10)\n}',
    });
    expectDiagnostic(text, { code: 'recursive-block', message: "block 'a' is recursive: a -> b -> c -> a", at: 'a(f)' });
  });

  it('reports direct self-recursion', () => {
    const text = plan({ blocks: 'block basic(f) { conv(f, 3) basic(f) }\nhead gap(c) { global_avg_pool dense(c) }' });
    expectDiagnostic(text, { code: 'recursive-block', message: 'basic -> basic', at: 'basic(f)' });
  });
});

describe('expressions', () => {
  it('reports a division by zero at the divisor', () => {
    expectDiagnostic(plan({ params: 'param zero = 0\nparam width = 8 / zero' }), { code: 'division-by-zero', at: 'zero\n' });
  });

  it('reports arithmetic on a string', () => {
    expectDiagnostic(plan({ params: 'param width = "4" * 2' }), { code: 'type-mismatch', message: 'cannot multiply the string "4"', at: '"4"' });
  });

  it('reports a param used before its definition', () => {
    expectDiagnostic(plan({ params: 'param width = depth\nparam depth = 4' }), { code: 'unknown-name', message: "unknown name 'depth'", at: 'depth\n' });
  });

  it('evaluates params with arithmetic', () => {
    const result = compile(plan({ params: 'param base = 2\nparam width = base * (1 + 1) - -0' }));
    expect(result.ir?.params).toEqual({ base: 2, width: 4 });
  });
});

describe('all at once', () => {
  it('reports every error of a plan in one pass, in source order', () => {
    const text = plan({
      network: 'network input [8, 8, 3] {\n  stem: cnov(4, 3)\n  stage1: basic(4, strde: 1)\n  out: global_avg_pool dense(10)\n}',
      schedule: 'schedule {\n  train p3 for 1 epoch with msgd(lr: -1)\n}',
    });
    const codes = compile(text).diagnostics.map((d) => d.code);
    expect(codes).toEqual(['unknown-layer', 'unknown-argument', 'unknown-partition', 'value-out-of-range']);
  });

  it('stops after syntax errors (no follow-on semantic errors)', () => {
    const result = compile('plan x\nnetwork input [4] { a: dense(2) \n');
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics.every((d) => !['missing-network', 'unknown-layer'].includes(d.code))).toBe(true);
    expect(result.ir).toBeUndefined();
  });
});
