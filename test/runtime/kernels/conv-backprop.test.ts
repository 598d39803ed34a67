import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dBackpropFilterViaForwardConv } from '../../../src/runtime/kernels/conv2d-backprop-filter.js';
import { conv2dBackpropInputViaForwardConv } from '../../../src/runtime/kernels/conv2d-backprop-input.js';
import { compareBackends, convCases, randomHost } from './helpers.js';

type Shape4 = [number, number, number, number];

/** A random conv problem whose 'valid' output is non-empty. */
const convCase = convCases({ size: [1, 9], inChannels: [1, 5], outChannels: [1, 6], filterHeight: [1, 4], filterWidth: [1, 4] });

/**
 * Shapes like the plans' layers: channel counts that fill mono's SIMD tiles (4 input x 8
 * output channels) and leave remainders, 1x1 and 3x3 filters, odd and even sizes, batch 1.
 */
const layerCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  height: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 9 }),
  inChannels: fc.constantFrom(1, 3, 4, 8, 16),
  outChannels: fc.constantFrom(8, 12, 16, 20),
  filterHeight: fc.constantFrom(1, 3),
  filterWidth: fc.constantFrom(1, 3),
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

describe('Conv2D (forward) on wasm', () => {
  for (const [name, cases] of [['random shapes, strides and paddings', convCase], ['layer-like channel counts, 1x1 and 3x3', layerCase]] as const) {
    it(`equals the cpu backend for ${name}`, async () => {
      await fc.assert(fc.asyncProperty(cases, async (c) => {
        const { xShape, filterShape } = geometry(c);
        const err = await compareBackends([randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 1)],
          (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad));
        expect(err).toBeLessThan(1e-4);
      }), { numRuns: 40 });
    });
  }

  it('handles explicit padding and stride 3', async () => {
    const pad = [[0, 0], [2, 0], [1, 3], [0, 0]] as tf.backend_util.ExplicitPadding;
    const err = await compareBackends([randomHost([2, 7, 6, 5], 15), randomHost([3, 2, 5, 8], 16)],
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 3, pad));
    expect(err).toBeLessThan(1e-4);
  });
});

describe('Conv2DBackpropFilter on wasm', () => {
  for (const [name, cases] of [['random shapes, strides and paddings', convCase], ['layer-like channel counts, 1x1 and 3x3, strides 1 and 2', layerCase]] as const) {
    it(`equals the cpu backend for ${name}`, async () => {
      await fc.assert(fc.asyncProperty(cases, async (c) => {
        const { xShape, filterShape, dyShape } = geometry(c);
        const err = await compareBackends([randomHost(xShape, c.seed), randomHost(dyShape, c.seed + 1)],
          (x, dy) => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dy! },
          { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
        expect(err).toBeLessThan(1e-4);
      }), { numRuns: 40 });
    });
  }

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
  for (const [name, cases] of [['random shapes, strides and paddings', convCase], ['layer-like channel counts, 1x1 and 3x3, strides 1 and 2', layerCase]] as const) {
    it(`equals the cpu backend for ${name}`, async () => {
      await fc.assert(fc.asyncProperty(cases, async (c) => {
        const { xShape, filterShape, dyShape } = geometry(c);
        const err = await compareBackends([randomHost(dyShape, c.seed), randomHost(filterShape, c.seed + 1)],
          (dy, filter) => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: filter! },
          { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
        expect(err).toBeLessThan(1e-4);
      }), { numRuns: 40 });
    });
  }

  it('handles stride 3 and a filter smaller than the stride (phases without taps)', async () => {
    for (const [filter, pad] of [[1, 'same'], [2, 'valid'], [4, 'same']] as const) {
      const xShape: Shape4 = [2, 8, 7, 4];
      const filterShape: Shape4 = [filter, filter, 4, 8];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, 3, 1, pad).outShape;
      const err = await compareBackends([randomHost(dyShape, 9), randomHost(filterShape, 10)],
        (dy, w) => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: w! },
          { strides: 3, pad, dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }
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

// The XNNPACK-only versions run where mono's SIMD kernels cannot reach the wasm memory.
describe('the fallbacks without mono\'s SIMD kernels', () => {
  const onWasm = (info: tf.TensorInfo): tf.Tensor => tf.engine().makeTensorFromTensorInfo(info);

  it('Conv2DBackpropFilter through a forward convolution equals cpu', async () => {
    for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
      const xShape: Shape4 = [2, 7, 8, 4];
      const filterShape: Shape4 = [3, 3, 4, 8];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, stride, 1, pad).outShape;
      const attrs = { strides: stride, pad, dataFormat: 'NHWC', filterShape } as const;
      const err = await compareBackends([randomHost(xShape, 11), randomHost(dyShape, 12)], (x, dy) => tf.getBackend() === 'wasm'
        ? onWasm(conv2dBackpropFilterViaForwardConv(tf.backend(), 'wasm', x!, dy!, attrs as unknown as tf.Conv2DBackpropFilterAttrs))
        : tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dy! }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }
  });

  it('Conv2DBackpropInput with zeros inserted equals cpu', async () => {
    for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
      const xShape: Shape4 = [2, 7, 8, 4];
      const filterShape: Shape4 = [3, 3, 4, 8];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape, filterShape, stride, 1, pad).outShape;
      const attrs = { strides: stride, pad, dataFormat: 'NHWC', inputShape: xShape } as const;
      const err = await compareBackends([randomHost(dyShape, 13), randomHost(filterShape, 14)], (dy, w) => tf.getBackend() === 'wasm'
        ? onWasm(conv2dBackpropInputViaForwardConv(tf.backend(), 'wasm', dy!, w!, attrs as unknown as tf.Conv2DBackpropInputAttrs))
        : tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: w! }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
      expect(err).toBeLessThan(1e-4);
    }
  });
});
