/**
 * The kernels mono's training runs, forward and backward, as checks against the cpu
 * backend: random problems (fast-check arbitraries) and what to compute on them. The
 * vitest suite runs them as properties on webgpu (test/runtime/kernels/webgpu.test.ts);
 * scripts/gpu-check.sh runs them on a GPU machine, where there is no vitest
 * (bench/gpu-check.ts). Each check's outputs must agree with cpu within 1e-4 relative.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { Optimizer } from '../src/optim/optimizers.js';
import { batchNormTrain } from '../src/runtime/kernels/batch-norm-train.js';
import { compareBackends, randomHost, type HostTensor, type TestBackend } from '../test/runtime/kernels/helpers.js';

type Shape4 = [number, number, number, number];
type Compute = (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

export const KERNEL_TOLERANCE = 1e-4;

export interface KernelCheck<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** The host inputs and the computation for one problem. */
  problem(c: T): { inputs: HostTensor[]; compute: Compute };
}

const check = <T>(c: KernelCheck<T>): KernelCheck<unknown> => c as KernelCheck<unknown>;

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

function convGeometry(c: ConvCase): { xShape: Shape4; filterShape: Shape4; dyShape: number[] } {
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

const bnCase = fc.record({
  lead: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }).filter((l) => l[0]! * l[1]! * l[2]! >= 4),
  channels: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

const optimizerCase = fc.record({
  spec: fc.constantFrom(
    { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4, lars: { eta: 0.01 } } as const,
    { type: 'msgd', lr: 0.05, momentum: 0.9, weightDecay: 5e-4, lars: null } as const,
    { type: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 1e-4 } as const,
  ),
  rows: fc.integer({ min: 1, max: 5 }),
  cols: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

export const KERNEL_CHECKS: readonly KernelCheck<unknown>[] = [
  check({
    name: 'Conv2D, FusedConv2D (bias, relu): stride, same/valid padding',
    arbitrary: convCase,
    problem: (c) => {
      const { xShape, filterShape } = convGeometry(c);
      return {
        inputs: [randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 1), randomHost([c.outChannels], c.seed + 2)],
        compute: (x, f, bias) => [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad),
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: c.stride, pad: c.pad, bias: bias!, activation: 'relu' })],
      };
    },
  }),
  check({
    name: 'Conv2DBackpropFilter, Conv2DBackpropInput',
    arbitrary: convCase,
    problem: (c) => {
      const { xShape, filterShape, dyShape } = convGeometry(c);
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
      return {
        inputs: [randomHost(xShape, c.seed), randomHost(dyShape, c.seed + 1), randomHost(filterShape, c.seed + 2)],
        compute: (x, dy, f) => [
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: x!, dy: dy! }, { ...attrs, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
          tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy!, filter: f! }, { ...attrs, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
        ],
      };
    },
  }),
  check({
    name: 'MaxPool, MaxPoolGrad (ties: first largest input), AvgPool, AvgPoolGrad (same padding)',
    arbitrary: poolCase,
    problem: (c) => {
      const shape: Shape4 = [c.batch, c.height, c.width, c.channels];
      const dyShape = tf.backend_util.computePool2DInfo(shape, c.filter, c.stride, 1, c.pad).outShape;
      const attrs = { filterSize: c.filter, strides: c.stride, pad: c.pad } as unknown as tf.NamedAttrMap;
      return {
        inputs: [withTies(shape, c.seed), randomHost(shape, c.seed + 1), randomHost(dyShape, c.seed + 2)],
        compute: (ties, x, dy) => {
          const maxed = tf.maxPool(ties as tf.Tensor4D, c.filter, c.stride, c.pad);
          return [
            maxed,
            tf.engine().runKernel(tf.MaxPoolGrad, { dy: dy!, input: ties!, output: maxed }, attrs) as tf.Tensor,
            tf.avgPool(x as tf.Tensor4D, c.filter, c.stride, c.pad),
            tf.engine().runKernel(tf.AvgPoolGrad, { dy: dy!, input: x! }, attrs) as tf.Tensor,
          ];
        },
      };
    },
  }),
  check({
    name: 'BatchNorm training: output, batch statistics, gradients of x, gamma, beta',
    arbitrary: bnCase,
    problem: (c) => {
      const shape = [...c.lead, c.channels];
      return {
        inputs: [randomHost(shape, c.seed), randomHost([c.channels], c.seed + 1), randomHost([c.channels], c.seed + 2), randomHost(shape, c.seed + 3)],
        compute: (x, gamma, beta, w) => {
          const loss = (xa: tf.Tensor, ga: tf.Tensor, ba: tf.Tensor): tf.Scalar =>
            tf.sum(tf.mul(batchNormTrain(xa, ga as tf.Tensor1D, ba as tf.Tensor1D, 1e-3).y, w!)) as tf.Scalar;
          const { y, mean, variance } = batchNormTrain(x!, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-3);
          return [y, mean, variance, ...tf.grads(loss)([x!, gamma!, beta!])];
        },
      };
    },
  }),
  check({
    name: "conv2d's gradients (input, filter) through tf.grads",
    arbitrary: convCase,
    problem: (c) => {
      const { xShape, filterShape } = convGeometry(c);
      return {
        inputs: [randomHost(xShape, c.seed), randomHost(filterShape, c.seed + 1)],
        compute: (x, f) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))))([x!, f!]),
      };
    },
  }),
  check({
    name: 'loss head: global average pool, dense, softmax cross-entropy and gradients',
    arbitrary: fc.record({ batch: fc.integer({ min: 1, max: 5 }), channels: fc.integer({ min: 1, max: 6 }), classes: fc.integer({ min: 2, max: 5 }), seed: fc.integer({ min: 1, max: 1_000_000 }) }),
    problem: (c) => ({
      inputs: [randomHost([c.batch, 3, 3, c.channels], c.seed), randomHost([c.channels, c.classes], c.seed + 1), randomHost([c.classes], c.seed + 2)],
      compute: (x, w, b) => {
        const labels = tf.oneHot(tf.tensor1d(Array.from({ length: c.batch }, (_v, i) => (i * 7 + c.seed) % c.classes), 'int32'), c.classes);
        const loss = (xa: tf.Tensor, wa: tf.Tensor, ba: tf.Tensor): tf.Scalar => {
          const logits = tf.add(tf.matMul(tf.mean(xa, [1, 2]) as tf.Tensor2D, wa as tf.Tensor2D), ba);
          return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
        };
        return [loss(x!, w!, b!), ...tf.grads(loss)([x!, w!, b!])];
      },
    }),
  }),
  check({
    name: "optimizer update (msgd with weight decay, LARS; adam): weights after three steps",
    arbitrary: optimizerCase,
    problem: (c) => ({
      inputs: [randomHost([c.rows, c.cols], c.seed), randomHost([c.rows, c.cols], c.seed + 1)],
      compute: (w0, g) => {
        const variable = tf.variable(w0!.clone());
        const optimizer = new Optimizer(c.spec, [{ name: 'w', variable, lrMult: 1, tags: [], group: 'p1' }]);
        for (let i = 0; i < 3; i++) optimizer.step(new Map([['w', tf.mul(g!, i + 1)]]), { lr: c.spec.lr, momentum: 0.9 });
        const result = variable.clone();
        optimizer.dispose();
        variable.dispose();
        return result;
      },
    }),
  }),
];

/** The largest relative error of `check` on problem `c` between `backend` and cpu. */
export function checkOn<T>(backend: TestBackend, kernelCheck: KernelCheck<T>, c: T): Promise<number> {
  const { inputs, compute } = kernelCheck.problem(c);
  return compareBackends(inputs, compute, backend);
}

/** Every check on `runs` random problems each (seeded): the worst error per check, and the problem that gave it. */
export async function runKernelChecks(backend: TestBackend, runs: number, seed: number): Promise<{ name: string; runs: number; worst: number; worstCase: unknown }[]> {
  const results = [];
  for (const kernelCheck of KERNEL_CHECKS) {
    let worst = 0;
    let worstCase: unknown = null;
    for (const c of fc.sample(kernelCheck.arbitrary, { numRuns: runs, seed })) {
      const error = await checkOn(backend, kernelCheck, c);
      if (!(error <= worst)) {
        worst = error;
        worstCase = c;
      }
    }
    results.push({ name: kernelCheck.name, runs, worst, worstCase });
  }
  return results;
}
