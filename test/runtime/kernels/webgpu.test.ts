// Every kernel mono's training runs, forward and backward, on the webgpu backend
// against the cpu backend (relative error < 1e-4): convolutions with stride and
// 'same' padding, both pooling gradients (mono's WGSL kernels), BatchNorm in training
// mode, the loss head and the optimizer update. Random shapes from fast-check; few
// runs each, since every new shape compiles shaders (seconds on lavapipe).
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Optimizer } from '../../../src/optim/optimizers.js';
import { selectBackend } from '../../../src/runtime/backend.js';
import { batchNormTrain } from '../../../src/runtime/kernels/batch-norm-train.js';
import { webgpuKernelReport } from '../../../src/runtime/kernels/webgpu/index.js';
import { skipWithoutWebgpu } from '../../support/webgpu.js';
import { compareBackends, randomHost, runOn, type HostTensor } from './helpers.js';

type Shape4 = [number, number, number, number];
const skip = skipWithoutWebgpu();
const RUNS = 8;
const onWebgpu = (inputs: HostTensor[], compute: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) => compareBackends(inputs, compute, 'webgpu');

const convCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  height: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 9 }),
  inChannels: fc.integer({ min: 1, max: 5 }),
  outChannels: fc.integer({ min: 1, max: 6 }),
  filter: fc.integer({ min: 1, max: 3 }),
  stride: fc.constantFrom(1, 2),
  pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
}).filter((c) => c.pad === 'same' || (c.filter <= c.height && c.filter <= c.width));
type ConvCase = typeof convCase extends fc.Arbitrary<infer T> ? T : never;

function geometry(c: ConvCase): { xShape: Shape4; filterShape: Shape4; dyShape: number[] } {
  const xShape: Shape4 = [c.batch, c.height, c.width, c.inChannels];
  const filterShape: Shape4 = [c.filter, c.filter, c.inChannels, c.outChannels];
  return { xShape, filterShape, dyShape: tf.backend_util.computeConv2DInfo(xShape, filterShape, c.stride, 1, c.pad).outShape };
}

const poolCase = fc.record({
  batch: fc.integer({ min: 1, max: 2 }),
  height: fc.integer({ min: 1, max: 8 }),
  width: fc.integer({ min: 1, max: 8 }),
  channels: fc.integer({ min: 1, max: 4 }),
  filter: fc.integer({ min: 1, max: 3 }),
  stride: fc.constantFrom(1, 2),
  pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
}).filter((c) => c.pad === 'same' || (c.filter <= c.height && c.filter <= c.width));

/** relu-like values: many exact zeros, so max-pool windows have ties. */
function withTies(shape: number[], seed: number): HostTensor {
  const h = randomHost(shape, seed);
  h.values.forEach((v, i) => { h.values[i] = Math.max(0, Math.round(v * 2)); });
  return h;
}

describe.skipIf(skip)('training kernels on webgpu against cpu', () => {
  beforeAll(async () => {
    await selectBackend({ force: 'webgpu' });
  });

  it("replaces tfjs's MaxPoolGrad and AvgPoolGrad and has every other training kernel", () => {
    const report = webgpuKernelReport();
    expect(report.filter((k) => k.status === 'missing')).toEqual([]);
    expect(report.filter((k) => k.status === 'mono').map((k) => k.kernel).sort()).toEqual([tf.AvgPoolGrad, tf.MaxPoolGrad]);
  });

  it('Conv2D and FusedConv2D (bias, relu), stride and padding', async () => {
    await fc.assert(fc.asyncProperty(convCase, async (c) => {
      const { xShape, filterShape } = geometry(c);
      const err = await onWebgpu([randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 1), randomHost([c.outChannels], c.seed + 2)],
        (x, f, bias) => [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad),
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.stride, pad: c.pad, bias: bias!, activation: 'relu' })]);
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: RUNS });
  });

  it('Conv2DBackpropFilter and Conv2DBackpropInput', async () => {
    await fc.assert(fc.asyncProperty(convCase, async (c) => {
      const { xShape, filterShape, dyShape } = geometry(c);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
      const err = await onWebgpu([randomHost(xShape, c.seed), randomHost(dyShape, c.seed + 1), randomHost(filterShape, c.seed + 2)],
        (x, dy, f) => [
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dy! }, { ...attrs, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
          tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: f! }, { ...attrs, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        ]);
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: RUNS });
  });

  it('MaxPool and MaxPoolGrad (first largest input of a window, ties included), AvgPool and AvgPoolGrad (in-bounds count)', async () => {
    await fc.assert(fc.asyncProperty(poolCase, async (c) => {
      const shape: Shape4 = [c.batch, c.height, c.width, c.channels];
      const dyShape = tf.backend_util.computePool2DInfo(shape, c.filter, c.stride, 1, c.pad).outShape;
      const attrs = { filterSize: c.filter, strides: c.stride, pad: c.pad } as unknown as tf.NamedAttrMap;
      const err = await onWebgpu([withTies(shape, c.seed), randomHost(shape, c.seed + 1), randomHost(dyShape, c.seed + 2)], (ties, x, dy) => {
        const maxed = tf.maxPool(ties as tf.Tensor4D, c.filter, c.stride, c.pad);
        return [
          maxed,
          tf.engine().runKernel(tf.MaxPoolGrad, { dy: dy!, input: ties!, output: maxed }, attrs) as tf.Tensor,
          tf.avgPool(x as tf.Tensor4D, c.filter, c.stride, c.pad),
          tf.engine().runKernel(tf.AvgPoolGrad, { dy: dy!, input: x! }, attrs) as tf.Tensor,
        ];
      });
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: RUNS });
  });

  it('the 1..9 example of docs/kernels.md: avgPool(2, 2, same) and its gradient', async () => {
    const x: HostTensor = { shape: [1, 3, 3, 1], values: Float32Array.from({ length: 9 }, (_v, i) => i + 1) };
    const [y, dx] = await runOn('webgpu', [x], (input) => [
      tf.avgPool(input as tf.Tensor4D, 2, 2, 'same'),
      tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 2, 2, 'same')))(input!),
    ]);
    expect(Array.from(y!.values)).toEqual([3, 4.5, 7.5, 9]);
    expect(Array.from(dx!.values)).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
  });

  it('BatchNorm in training mode: output, batch statistics and gradients for x, gamma, beta', async () => {
    const bnCase = fc.record({
      lead: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }).filter((l) => l[0]! * l[1]! * l[2]! >= 4),
      channels: fc.integer({ min: 1, max: 6 }),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    });
    await fc.assert(fc.asyncProperty(bnCase, async (c) => {
      const shape = [...c.lead, c.channels];
      const err = await onWebgpu([randomHost(shape, c.seed), randomHost([c.channels], c.seed + 1), randomHost([c.channels], c.seed + 2), randomHost(shape, c.seed + 3)],
        (x, gamma, beta, w) => {
          const loss = (xa: tf.Tensor, ga: tf.Tensor, ba: tf.Tensor): tf.Scalar =>
            tf.sum(tf.mul(batchNormTrain(xa, ga as tf.Tensor1D, ba as tf.Tensor1D, 1e-3).y, w!)) as tf.Scalar;
          const { y, mean, variance } = batchNormTrain(x!, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-3);
          return [y, mean, variance, ...tf.grads(loss)([x!, gamma!, beta!])];
        });
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: RUNS });
  });

  it("conv2d's gradients for input and filter through tf.grads, stride 2 and 'same' padding", async () => {
    await fc.assert(fc.asyncProperty(convCase, async (c) => {
      const { xShape, filterShape } = geometry(c);
      const err = await onWebgpu([randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 1)],
        (x, f) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))))([x!, f!]));
      expect(err).toBeLessThan(1e-4);
    }), { numRuns: RUNS });
  });

  it('the loss head: global average pool, dense, softmax cross-entropy and their gradients', async () => {
    const err = await onWebgpu([randomHost([4, 3, 3, 5], 1), randomHost([5, 3], 2), randomHost([3], 3)], (x, w, b) => {
      const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3);
      const loss = (xa: tf.Tensor, wa: tf.Tensor, ba: tf.Tensor): tf.Scalar => {
        const logits = tf.add(tf.matMul(tf.mean(xa, [1, 2]) as tf.Tensor2D, wa as tf.Tensor2D), ba);
        return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      };
      return [loss(x!, w!, b!), ...tf.grads(loss)([x!, w!, b!])];
    });
    expect(err).toBeLessThan(1e-4);
  });

  it("the optimizer's update (msgd with weight decay and LARS, adam): same weights after three steps", async () => {
    for (const spec of [
      { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, lars: { eta: 0.01 } },
      { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 1e-4 },
    ] as const) {
      const err = await onWebgpu([randomHost([3, 4], 1), randomHost([3, 4], 2)], (w0, g) => {
        const variable = tf.variable(w0!.clone());
        const optimizer = new Optimizer(spec, [{ name: 'w', variable, lrMult: 1, tags: [], group: 'p1' }]);
        for (let i = 0; i < 3; i++) optimizer.step(new Map([['w', tf.mul(g!, i + 1)]]), { lr: spec.lr, momentum: 0.9 });
        const result = variable.clone();
        optimizer.dispose();
        variable.dispose();
        return result;
      });
      expect(err, spec.type).toBeLessThan(1e-4);
    }
  });
});
