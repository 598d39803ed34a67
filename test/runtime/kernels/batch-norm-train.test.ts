import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_NORM_TRAIN, batchNormTrain } from '../../../src/runtime/kernels/batch-norm-train.js';
import { initWasmBackend } from '../../../src/runtime/kernels/wasm-setup.js';
import { randomHost, runOn } from './helpers.js';

const bnCase = fc.record({
  // At least 4 values per channel: with 2 or 3, normalised outputs sit at about +-1 and
  // dx is a near-total cancellation, where two correct float32 formulas differ by ~2e-4.
  lead: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }).filter((lead) => lead.reduce((a, b) => a * b, 1) >= 4),
  channels: fc.integer({ min: 1, max: 9 }),
  offset: fc.double({ min: -50, max: 50, noNaN: true }),
  useMoments: fc.boolean(),
  relu: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

describe('batchNormTrain (fused SIMD kernels on wasm, tf.moments + tf.batchNorm (+ tf.relu) on cpu)', () => {
  it('runs mono\'s fused kernel on wasm and the composite on cpu', async () => {
    await initWasmBackend();
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeDefined();
    expect(tf.getKernel(BATCH_NORM_TRAIN, 'cpu')).toBeUndefined();
  });

  // Each backend against float64, not wasm against cpu: dgamma = sum(dy * xhat) and dbeta =
  // sum(dy) cancel heavily (their terms' signs differ), and a float32 sum of such terms is
  // only accurate relative to the sum of their magnitudes. Measured against its own size,
  // the cpu composite's dgamma was 1.4e-4 off the float64 value in the case
  // {lead [4,3], 1 channel, seed 37151} (FC_SEED=1307211893 before this test changed),
  // which failed the old wasm-vs-cpu check at 1.2e-4 while both were as exact as float32
  // sums allow. So every output is checked relative to the magnitude of what it sums.
  it('gives output, statistics and gradients (x, gamma, beta) within float32 rounding of float64, with and without the ReLU, on wasm and cpu', async () => {
    await fc.assert(fc.asyncProperty(bnCase, async (c) => {
      const shape = [...c.lead, c.channels];
      const x = randomHost(shape, c.seed);
      // An offset far from zero checks the centred variance.
      x.values.forEach((v, i) => { x.values[i] = v + c.offset; });
      const inputs = [x, randomHost([c.channels], c.seed + 1), randomHost([c.channels], c.seed + 2),
        randomHost(shape, c.seed + 3), randomHost([c.channels], c.seed + 4)];
      const compute = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, w: tf.Tensor, wStats: tf.Tensor): tf.Tensor[] => {
        const loss = (xa: tf.Tensor, ga: tf.Tensor, ba: tf.Tensor): tf.Scalar => {
          const { y, mean, variance } = batchNormTrain(xa, ga as tf.Tensor1D, ba as tf.Tensor1D, 1e-3, { relu: c.relu });
          const main = tf.sum(tf.mul(y, w));
          // Optionally the statistics reach the loss too (their own gradients).
          return (c.useMoments ? tf.add(main, tf.sum(tf.mul(tf.add(mean, variance), wStats))) : main) as tf.Scalar;
        };
        const { y, mean, variance } = batchNormTrain(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, { relu: c.relu });
        return [y, mean, variance, ...tf.grads(loss)([a, g, b])];
      };
      const reference = float64Reference(inputs.map((h) => h.values), c.channels, 1e-3, c.relu, c.useMoments);
      for (const backend of ['wasm', 'cpu'] as const) {
        const got = await runOn(backend, inputs, (a, g, b, w, s) => compute(a!, g!, b!, w!, s!));
        reference.forEach(({ name, value, scale }, i) => {
          const values = got[i]!.values;
          let worst = 0;
          value.forEach((want, j) => { worst = Math.max(worst, Math.abs(values[j]! - want) / scale[j]!); });
          expect(worst, `${backend} ${name}`).toBeLessThan(1e-4);
        });
      }
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

interface Reference { name: string; value: number[]; scale: number[] }

/**
 * y, mean, variance, dx, dgamma, dbeta in float64 for loss = sum(y * w) (+ sum((mean +
 * variance) * wStats)), with the scale each is accurate to in float32: the largest
 * magnitude among the terms it is computed from (for a sum, the sum of their magnitudes).
 */
function float64Reference([x, gamma, beta, w, wStats]: Float32Array[], c: number, epsilon: number, relu: boolean,
  useMoments: boolean): Reference[] {
  const n = x!.length / c;
  const perChannel = (f: (ch: number) => number): number[] => Array.from({ length: c }, (_, ch) => f(ch));
  const at = (i: number, ch: number): number => i * c + ch;
  const mean = perChannel((ch) => { let s = 0; for (let i = 0; i < n; i++) s += x![at(i, ch)]!; return s / n; });
  const variance = perChannel((ch) => { let s = 0; for (let i = 0; i < n; i++) s += (x![at(i, ch)]! - mean[ch]!) ** 2; return s / n; });
  const invStd = variance.map((v) => 1 / Math.sqrt(v + epsilon));
  const xhat = Array.from(x!, (v, k) => (v - mean[k % c]!) * invStd[k % c]!);
  const pre = xhat.map((v, k) => v * gamma![k % c]! + beta![k % c]!);
  const y = relu ? pre.map((v) => Math.max(v, 0)) : pre;
  const dy = Array.from(w!, (v, k) => (relu && !(pre[k]! > 0) ? 0 : v));
  const sumDy = perChannel((ch) => { let s = 0; for (let i = 0; i < n; i++) s += dy[at(i, ch)]!; return s; });
  const sumDyXhat = perChannel((ch) => { let s = 0; for (let i = 0; i < n; i++) s += dy[at(i, ch)]! * xhat[at(i, ch)]!; return s; });
  const absDy = perChannel((ch) => { let s = 0; for (let i = 0; i < n; i++) s += Math.abs(dy[at(i, ch)]!); return s; });
  const absDyXhat = perChannel((ch) => { let s = 0; for (let i = 0; i < n; i++) s += Math.abs(dy[at(i, ch)]! * xhat[at(i, ch)]!); return s; });
  const dx = xhat.map((h, k) => {
    const ch = k % c;
    const main = (gamma![ch]! * invStd[ch]! / n) * (n * dy[k]! - sumDy[ch]! - h * sumDyXhat[ch]!);
    return main + (useMoments ? wStats![ch]! * (1 + 2 * (x![k]! - mean[ch]!)) / n : 0);
  });
  const dxScale = xhat.map((h, k) => {
    const ch = k % c;
    const main = (Math.abs(gamma![ch]!) * invStd[ch]! / n) * (n * Math.abs(dy[k]!) + absDy[ch]! + Math.abs(h) * absDyXhat[ch]!);
    return main + (useMoments ? Math.abs(wStats![ch]!) * (1 + 2 * Math.abs(x![k]! - mean[ch]!)) / n : 0);
  });
  const spread = perChannel((ch) => { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x![at(i, ch)]! - mean[ch]!)); return m; });
  const positive = (values: number[]): number[] => values.map((v) => Math.max(v, 1e-30));
  return [
    // y = x * invStd * gamma - mean * invStd * gamma + beta: with an offset, x and mean are
    // large and their difference small, so float32 is exact only relative to them
    // (FC_SEED=-1610892560: {lead [5,2], 1 channel, offset 27.5, seed 11} was 1.25e-4 off
    // relative to |xhat * gamma| + |beta|, the scale this check used before).
    { name: 'y', value: y, scale: positive(Array.from(x!, (v, k) => (Math.abs(v) + Math.abs(mean[k % c]!)) * invStd[k % c]! * Math.abs(gamma![k % c]!) + Math.abs(beta![k % c]!))) },
    { name: 'mean', value: mean, scale: positive(perChannel((ch) => Math.abs(mean[ch]!) + spread[ch]!)) },
    { name: 'variance', value: variance, scale: positive(spread.map((s) => s * s)) },
    { name: 'dx', value: dx, scale: positive(dxScale) },
    { name: 'dgamma', value: sumDyXhat, scale: positive(absDyXhat) },
    { name: 'dbeta', value: sumDy, scale: positive(absDy) },
  ];
}
