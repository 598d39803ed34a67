import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { compareLosses, compareWeights, median, stepLossesFromRunningMeans, summarize } from '../../bench/pytorch/compare.js';

describe('comparing two runs', () => {
  fcTest.prop({
    steps: fc.array(fc.record({ loss: fc.double({ min: 0.01, max: 5, noNaN: true }), size: fc.integer({ min: 1, max: 64 }) }), { minLength: 1, maxLength: 40 }),
  })('recovers per-step losses from the running means mono reports', ({ steps }) => {
    let sum = 0;
    let examples = 0;
    const means = steps.map(({ loss, size }) => {
      sum += loss * size;
      examples += size;
      return sum / examples;
    });
    const recovered = stepLossesFromRunningMeans(means, steps.map((s) => s.size));
    recovered.forEach((loss, i) => expect(loss).toBeCloseTo(steps[i]!.loss, 9));
  });

  it('reports loss differences relative to mono, with the step of the largest', () => {
    const agreement = compareLosses([1, 2, 4, 1], [1, 2.002, 4, 1.5]);
    expect(agreement.first).toBe(0);
    expect(agreement.firstTen).toBeCloseTo(0.5, 12);
    expect(agreement.max).toBeCloseTo(0.5, 12);
    expect(agreement.maxAt).toBe(4);
    expect(() => compareLosses([1], [1, 2])).toThrow(/length/);
  });

  it('measures weight differences against each tensor own scale', () => {
    const w = (name: string, values: number[]) => ({ name, shape: [values.length], values: Float32Array.from(values) });
    const agreement = compareWeights([w('a', [2, -4]), w('b', [0.5, 0.5]), w('c', [1, 1])], [w('c', [1, 1]), w('a', [2, -4.4]), w('b', [0.5, 0.45])]);
    expect(agreement.tensor).toBe('b');
    expect(agreement.max).toBeCloseTo(0.1, 6);
    expect(agreement.median).toBeCloseTo(0.1, 6);
    expect(agreement.tensors).toBe(3);
    expect(() => compareWeights([w('a', [1])], [w('z', [1])])).toThrow(/missing/);
  });

  it('summarises repeated figures', () => {
    expect(summarize([1, 2, 3])).toMatchObject({ mean: 2, min: 1, max: 3, sd: 1, n: 3 });
    expect(summarize([4]).sd).toBe(0);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
