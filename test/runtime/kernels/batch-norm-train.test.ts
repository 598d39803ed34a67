import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_NORM_TRAIN, batchNormTrain } from '../../../src/runtime/kernels/batch-norm-train.js';
import { initWasmBackend } from '../../../src/runtime/kernels/wasm-setup.js';
import { compareBackends, randomHost } from './helpers.js';

const bnCase = fc.record({
  // At least 4 values per channel: with 2 or 3, normalised outputs sit at about +-1 and
  // dx is a near-total cancellation, where two correct float32 formulas differ by ~2e-4.
  lead: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }).filter((lead) => lead.reduce((a, b) => a * b, 1) >= 4),
  channels: fc.integer({ min: 1, max: 9 }),
  offset: fc.double({ min: -50, max: 50, noNaN: true }),
  useMoments: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

describe('batchNormTrain (fused on wasm, tf.moments + tf.batchNorm on cpu)', () => {
  it('runs mono\'s fused kernel on wasm and the composite on cpu', async () => {
    await initWasmBackend();
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeDefined();
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'cpu')).toBeUndefined();
  });

  it('gives the same output, statistics and gradients (x, gamma, beta) as cpu', async () => {
    await fc.assert(fc.asyncProperty(bnCase, async (c) => {
      const shape = [...c.lead, c.channels];
      const x = randomHost(shape, c.seed);
      // An offset far from zero checks the centred variance.
      x.values.forEach((v, i) => { x.values[i] = v + c.offset; });
      const inputs = [x, randomHost([c.channels], c.seed + 1), randomHost([c.channels], c.seed + 2),
        randomHost(shape, c.seed + 3), randomHost([c.channels], c.seed + 4)];
      const err = await compareBackends(inputs, (a, g, b, w, wStats) => {
        const loss = (xa: tf.Tensor, ga: tf.Tensor, ba: tf.Tensor): tf.Scalar => {
          const { y, mean, variance } = batchNormTrain(xa, ga as tf.Tensor1D, ba as tf.Tensor1D, 1e-3);
          const main = tf.sum(tf.mul(y, w!));
          // Optionally the statistics reach the loss too (their own gradients).
          return (c.useMoments ? tf.add(main, tf.sum(tf.mul(tf.add(mean, variance), wStats!))) : main) as tf.Scalar;
        };
        const { y, mean, variance } = batchNormTrain(a!, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3);
        return [y, mean, variance, ...tf.grads(loss)([a!, g!, b!])];
      });
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 40 });
  });

  it('keeps the tensor count flat across gradient steps', async () => {
    await initWasmBackend();
    const x = tf.randomNormal([4, 5, 5, 3]);
    const g = tf.ones([3]) as tf.Tensor1D;
    const b = tf.zeros([3]) as tf.Tensor1D;
    const step = (): void => tf.dispose(tf.grads((xa: tf.Tensor, ga: tf.Tensor, ba: tf.Tensor) =>
      tf.sum(tf.square(batchNormTrain(xa, ga as tf.Tensor1D, ba as tf.Tensor1D, 1e-3).y)))([x, g, b]));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b]);
  });
});
