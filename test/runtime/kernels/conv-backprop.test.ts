import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBackends, randomHost } from './helpers.js';

type Shape4 = [number, number, number, number];

/** A random conv problem whose 'valid' output is non-empty. */
const convCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  height: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 9 }),
  inChannels: fc.integer({ min: 1, max: 5 }),
  outChannels: fc.integer({ min: 1, max: 6 }),
  filterHeight: fc.integer({ min: 1, max: 4 }),
  filterWidth: fc.integer({ min: 1, max: 4 }),
  stride: fc.constantFrom(1, 2),
  pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
}).filter((c) => c.pad === 'same' || (c.filterHeight <= c.height && c.filterWidth <= c.width));

type ConvCase = typeof convCase extends fc.Arbitrary<infer T> ? T : never;

function geometry(c: ConvCase): { xShape: Shape4; filterShape: Shape4; dyShape: number[] } {
  const xShape: Shape4 = [c.batch, c.height, c.width, c.inChannels];
  const filterShape: Shape4 = [c.filterHeight, c.filterWidth, c.inChannels, c.outChannels];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, c.stride, 1, c.pad);
  return { xShape, filterShape, dyShape: info.outShape };
}

describe('Conv2DBackpropFilter on wasm', () => {
  it('equals the cpu backend for random shapes, strides and paddings', async () => {
    await fc.assert(fc.asyncProperty(convCase, async (c) => {
      const { xShape, filterShape, dyShape } = geometry(c);
      const err = await compareBackends([randomHost(xShape, c.seed), randomHost(dyShape, c.seed + 1)],
        (x, dy) => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dy! },
          { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 40 });
  });

  it('handles explicit padding', async () => {
    const pad = [[0, 0], [2, 0], [1, 3], [0, 0]];
    const xShape: Shape4 = [2, 7, 6, 3];
    const filterShape: Shape4 = [3, 2, 3, 4];
    const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, 2, 1,
      pad as tf.backend_util.ExplicitPadding).outShape;
    const err = await compareBackends([randomHost(xShape, 5), randomHost(dyShape, 6)],
      (x, dy) => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dy! },
        { strides: 2, pad, dataFormat: 'NHWC', filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
    expect(err).toBeLessThan(1e-4);
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  it('equals the cpu backend for random shapes, strides and paddings', async () => {
    await fc.assert(fc.asyncProperty(convCase, async (c) => {
      const { xShape, filterShape, dyShape } = geometry(c);
      const err = await compareBackends([randomHost(dyShape, c.seed), randomHost(filterShape, c.seed + 1)],
        (dy, filter) => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: filter! },
          { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 40 });
  });

  it('handles padding wider than the filter', async () => {
    const pad = [[0, 0], [3, 1], [0, 4], [0, 0]];
    const xShape: Shape4 = [2, 5, 6, 3];
    const filterShape: Shape4 = [2, 3, 3, 4];
    const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, 2, 1,
      pad as tf.backend_util.ExplicitPadding).outShape;
    const err = await compareBackends([randomHost(dyShape, 7), randomHost(filterShape, 8)],
      (dy, filter) => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: filter! },
        { strides: 2, pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
    expect(err).toBeLessThan(1e-4);
  });

  it('gives conv2d gradients for x and filter that match cpu', async () => {
    await fc.assert(fc.asyncProperty(convCase, async (c) => {
      const { xShape, filterShape } = geometry(c);
      const err = await compareBackends([randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 2)],
        (x, w) => tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))))([x!, w!]));
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: 15 });
  });
});
