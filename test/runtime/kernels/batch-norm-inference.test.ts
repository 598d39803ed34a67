// tf.batchNorm with given statistics (frozen partitions, evaluation) on wasm runs mono's
// SIMD pass; it equals the cpu backend, with or without offset and scale, statistics per
// channel or one for all, and falls back to the shipped kernel for other shapes.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBackends, randomHost } from './helpers.js';

describe('FusedBatchNorm (inference) on wasm', () => {
  it('equals the cpu backend for random shapes, with and without offset and scale', async () => {
    await fc.assert(fc.asyncProperty(fc.record({
      shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
      withOffset: fc.boolean(),
      withScale: fc.boolean(),
      scalarStatistics: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    }), async ({ shape, withOffset, withScale, scalarStatistics, seed }) => {
      const channels = shape[shape.length - 1]!;
      const stat = scalarStatistics ? [1] : [channels];
      const variance = randomHost(stat, seed + 2);
      variance.values = variance.values.map((v) => Math.abs(v) + 0.1);
      const err = await compareBackends(
        [randomHost(shape, seed), randomHost(stat, seed + 1), variance, randomHost([channels], seed + 3), randomHost([channels], seed + 4)],
        (x, mean, v, offset, scale) => tf.batchNorm(x!, mean!, v!, withOffset ? offset : undefined, withScale ? scale : undefined, 1e-3));
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 40 });
  });

  it('falls back to the shipped kernel for statistics of another shape', async () => {
    const err = await compareBackends([randomHost([2, 3, 4], 1), randomHost([3, 4], 2), randomHost([3, 4], 3)],
      (x, mean, v) => tf.batchNorm(x!, mean!, tf.add(tf.abs(v!), 0.1), undefined, undefined, 1e-3));
    expect(err).toBeLessThan(1e-4);
  });
});
