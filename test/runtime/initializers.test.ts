import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Initializer } from '../../src/ir/types.js';
import { fans, initialValues } from '../../src/runtime/initializers.js';
import { Rng } from '../../src/runtime/rng.js';

const kernelShape = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 })).map(([k, cin, f]) => [k, k, cin, f]),
  fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 32 })).map(([n, u]) => [n, u]),
);

function moments(values: Float32Array): { mean: number; variance: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, variance: squares / values.length };
}

describe('initialValues', () => {
  it('keeps fan_in_uniform inside +-1/sqrt(fan_in) and is the same for the same seed', () => {
    fc.assert(
      fc.property(kernelShape, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (shape, seed) => {
        const limit = 1 / Math.sqrt(fans(shape).fanIn);
        const values = initialValues('fan_in_uniform', shape, new Rng(seed));
        expect(values.length).toBe(shape.reduce((a, b) => a * b, 1));
        expect(values.reduce((max, v) => Math.max(max, Math.abs(v)), 0)).toBeLessThanOrEqual(Math.fround(limit));
        expect(initialValues('fan_in_uniform', shape, new Rng(seed))).toEqual(values);
      }),
      { numRuns: 50 },
    );
  });

  it('draws fan_in_uniform with variance 1/(3 fan_in), a sixth of he_normal\'s 2/fan_in', () => {
    const shape = [3, 3, 64, 64];
    const fanIn = 3 * 3 * 64;
    const uniform = moments(initialValues('fan_in_uniform', shape, new Rng(7)));
    const normal = moments(initialValues('he_normal', shape, new Rng(7)));
    // 36,864 draws: the sample variance is within a few percent of its expectation.
    expect(Math.abs(uniform.mean)).toBeLessThan(0.002);
    expect(uniform.variance * 3 * fanIn).toBeCloseTo(1, 1);
    expect(normal.variance * fanIn / 2).toBeCloseTo(1, 1);
  });

  it('gives every initializer a finite value per element', () => {
    const all: Initializer[] = ['he_normal', 'fan_in_uniform', 'glorot_uniform', 'zeros', 'ones'];
    for (const init of all) {
      const values = initialValues(init, [3, 3, 2, 4], new Rng(1));
      expect(values.length).toBe(72);
      expect(values.every(Number.isFinite)).toBe(true);
    }
  });
});
