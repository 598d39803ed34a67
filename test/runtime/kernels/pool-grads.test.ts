import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBackends, randomHost, type HostTensor } from './helpers.js';

const poolCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  height: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 9 }),
  channels: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(8, 16)),
  filter: fc.integer({ min: 1, max: 3 }),
  stride: fc.constantFrom(1, 2),
  pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  ties: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
}).filter((c) => c.pad === 'same' || (c.filter <= c.height && c.filter <= c.width));

/** With `ties`, values are relu-like: many exact zeros, as after a ReLU. */
function input(shape: number[], seed: number, ties: boolean): HostTensor {
  const h = randomHost(shape, seed);
  if (ties) h.values.forEach((v, i) => { h.values[i] = Math.max(0, Math.round(v * 2)); });
  return h;
}

describe('pool gradients on wasm', () => {
  it('MaxPoolGrad equals the cpu backend, ties included', async () => {
    await fc.assert(fc.asyncProperty(poolCase, async (c) => {
      const shape = [c.batch, c.height, c.width, c.channels];
      const dyShape = tf.backend_util.computePool2DInfo(shape as [number, number, number, number],
        c.filter, c.stride, 1, c.pad).outShape;
      const err = await compareBackends([input(shape, c.seed, c.ties), randomHost(dyShape, c.seed + 3)],
        (x, dy) => tf.engine().runKernel(tf.MaxPoolGrad,
          { dy: dy!, input: x!, output: tf.maxPool(x as tf.Tensor4D, c.filter, c.stride, c.pad) },
          { filterSize: c.filter, strides: c.stride, pad: c.pad } as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 40 });
  });

  it('AvgPoolGrad equals the cpu backend', async () => {
    await fc.assert(fc.asyncProperty(poolCase, async (c) => {
      const shape = [c.batch, c.height, c.width, c.channels];
      const dyShape = tf.backend_util.computePool2DInfo(shape as [number, number, number, number],
        c.filter, c.stride, 1, c.pad).outShape;
      const err = await compareBackends([input(shape, c.seed, false), randomHost(dyShape, c.seed + 3)],
        (x, dy) => tf.engine().runKernel(tf.AvgPoolGrad, { dy: dy!, input: x! },
          { filterSize: c.filter, strides: c.stride, pad: c.pad } as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 40 });
  });
});
