import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  registerWasmTrainingKernels, restoreShippedWasmKernels, wasmKernelReport,
} from '../../../src/runtime/kernels/index.js';
import { compareBackends, randomHost } from './helpers.js';

describe('registration and report', () => {
  it('reports mono kernels and gradients, and registering twice changes nothing', () => {
    registerWasmTrainingKernels();
    const first = wasmKernelReport();
    registerWasmTrainingKernels();
    expect(wasmKernelReport()).toEqual(first);
    const status = (kernel: string): string | undefined => first.find((k) => k.kernel === kernel)?.status;
    expect(status('Conv2DBackpropFilter')).toBe('mono');
    expect(status('Conv2DBackpropInput')).toBe('mono');
    expect(status('MaxPoolGrad')).toBe('mono');
    expect(status('Relu')).toBe('native');
    expect(status('FusedBatchNorm (gradient)')).toBe('mono');
    expect(first.every((k) => k.status !== 'missing')).toBe(true);
  });

  it('restores the shipped kernels: Conv2DBackpropFilter is then missing again', () => {
    registerWasmTrainingKernels();
    restoreShippedWasmKernels();
    const report = wasmKernelReport();
    expect(report.find((k) => k.kernel === 'Conv2DBackpropFilter')?.status).toBe('missing');
    expect(report.find((k) => k.kernel === 'Conv2DBackpropInput')?.status).toBe('native');
    registerWasmTrainingKernels();
    expect(wasmKernelReport()).not.toEqual(report);
  });

  it('keeps the kernels asked for when restoring the others, and registers all of them again afterwards', () => {
    registerWasmTrainingKernels();
    const all = wasmKernelReport();
    restoreShippedWasmKernels({ keep: ['Conv2DBackpropFilter'] });
    const kept = wasmKernelReport();
    expect(kept.find((k) => k.kernel === 'Conv2DBackpropFilter')?.status).toBe('mono');
    expect(kept.find((k) => k.kernel === 'Conv2DBackpropInput')?.status).toBe('native');
    registerWasmTrainingKernels();
    expect(wasmKernelReport()).toEqual(all);
    // The kept kernel was never taken for a shipped one: a full restore still removes it.
    restoreShippedWasmKernels();
    expect(wasmKernelReport().find((k) => k.kernel === 'Conv2DBackpropFilter')?.status).toBe('missing');
    registerWasmTrainingKernels();
  });
});

describe('BatchNorm gradient on wasm', () => {
  it('equals the cpu backend for random shapes (batch statistics and given statistics)', async () => {
    const bnCase = fc.record({
      batch: fc.integer({ min: 1, max: 4 }),
      height: fc.integer({ min: 1, max: 6 }),
      width: fc.integer({ min: 1, max: 6 }),
      channels: fc.integer({ min: 1, max: 8 }),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    });
    await fc.assert(fc.asyncProperty(bnCase, async (c) => {
      const shape = [c.batch, c.height, c.width, c.channels];
      const inputs = [randomHost(shape, c.seed), randomHost([c.channels], c.seed + 1), randomHost([c.channels], c.seed + 2),
        randomHost(shape, c.seed + 3)];
      const err = await compareBackends(inputs, (x, gamma, beta, w) => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b, g, 1e-3), w!));
      })([x!, gamma!, beta!]));
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 20 });
  });
});
