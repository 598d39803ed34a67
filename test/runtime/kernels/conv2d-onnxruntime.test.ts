import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OnnxSession, onnxruntimeStatus, resetOnnxruntime } from '../../../src/runtime/onnxruntime.js';
import { skipWithoutComponent } from '../../support/components.js';
import { compareBackends, convCases, randomHost } from './helpers.js';

type Shape4 = [number, number, number, number];

// onnxruntime-node is an npm dependency with its CPU library inside the package: it is
// missing only where its native library cannot load (another OS or CPU).
const status = onnxruntimeStatus();
const skip = skipWithoutComponent('onnxruntime-node', status.active, status.detail);

/** Convolutions onnxruntime runs: 32+ channels in and out, a filter larger than 1x1. */
const wideCase = convCases({ size: [1, 7], inChannels: [32, 40], outChannels: [32, 36], filterHeight: [1, 3], filterWidth: [2, 3] });

describe.skipIf(skip)('Conv2D on onnxruntime (wasm)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env['MONO_ONNXRUNTIME'];
    resetOnnxruntime();
  });

  it('equals the cpu backend, and onnxruntime ran it', async () => {
    const runs = vi.spyOn(OnnxSession.prototype, 'run');
    await fc.assert(fc.asyncProperty(wideCase, async (c) => {
      const xShape: Shape4 = [c.batch, c.height, c.width, c.inChannels];
      const filterShape: Shape4 = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
      const before = runs.mock.calls.length;
      const err = await compareBackends([randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 1)],
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad));
      expect(err).toBeLessThan(1e-4);
      expect(runs.mock.calls.length).toBe(before + 1);
    }), { numRuns: 25 });
  });

  it('gives the input gradient of a 3x3 stride-2 layer through onnxruntime, equal to cpu', async () => {
    const runs = vi.spyOn(OnnxSession.prototype, 'run');
    const err = await compareBackends([randomHost([2, 8, 8, 32], 3), randomHost([3, 3, 32, 48], 4)],
      (x, w) => tf.grad((input: tf.Tensor) => tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'))))(x!));
    expect(err).toBeLessThan(1e-4);
    expect(runs).toHaveBeenCalled();
  });

  it('leaves 1x1 filters and narrow layers to XNNPACK', async () => {
    const runs = vi.spyOn(OnnxSession.prototype, 'run');
    for (const [x, w] of [[[1, 5, 5, 32], [1, 1, 32, 32]], [[1, 5, 5, 16], [3, 3, 16, 32]], [[1, 5, 5, 3], [3, 3, 3, 64]]] as [Shape4, Shape4][]) {
      const err = await compareBackends([randomHost(x, 1), randomHost(w, 2)], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'));
      expect(err).toBeLessThan(1e-4);
    }
    expect(runs).not.toHaveBeenCalled();
  });

  it('is off with MONO_ONNXRUNTIME=off, and says so', async () => {
    process.env['MONO_ONNXRUNTIME'] = 'off';
    resetOnnxruntime();
    const runs = vi.spyOn(OnnxSession.prototype, 'run');
    const err = await compareBackends([randomHost([1, 6, 6, 32], 5), randomHost([3, 3, 32, 32], 6)],
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
    expect(err).toBeLessThan(1e-4);
    expect(runs).not.toHaveBeenCalled();
    expect(onnxruntimeStatus()).toEqual({ active: false, detail: expect.stringContaining('MONO_ONNXRUNTIME=off') });
  });
});
