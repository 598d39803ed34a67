// Checks the registered gradients (TensorFlow.js's own, and mono's overrides of a few)
// against central finite differences on the cpu
// backend (the wasm/cpu comparisons elsewhere cannot: both backends use them).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../../src/runtime/kernels/index.js';
import { randomHost, relativeError, toHost, fromHost, type HostTensor } from './helpers.js';

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

/** Inputs away from 0, so no finite difference straddles a kink (relu, max, abs). */
function awayFromZero(shape: number[], seed: number): HostTensor {
  const h = randomHost(shape, seed);
  h.values.forEach((v, i) => { h.values[i] = v >= 0 ? v + 0.2 : v - 0.2; });
  return h;
}

function positive(shape: number[], seed: number): HostTensor {
  const h = randomHost(shape, seed);
  h.values.forEach((v, i) => { h.values[i] = Math.abs(v) + 0.5; });
  return h;
}

/** sum(f(xs) * w) with a fixed random w, so every output element matters differently. */
function weightedLoss(f: Fn, xs: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const y = f(...xs);
    const w = fromHost(randomHost(y.shape, 999));
    return tf.sum(tf.mul(y, w)) as tf.Scalar;
  });
}

function numericGradient(f: Fn, inputs: HostTensor[], which: number, h: number): HostTensor {
  const base = inputs[which]!;
  const grad = new Float32Array(base.values.length);
  for (let i = 0; i < grad.length; i++) {
    const at = (delta: number): number => {
      const shifted = { shape: base.shape, values: base.values.slice() };
      shifted.values[i] = shifted.values[i]! + delta;
      const xs = inputs.map((t, j) => fromHost(j === which ? shifted : t));
      const value = weightedLoss(f, xs).dataSync()[0]!;
      tf.dispose(xs);
      return value;
    };
    grad[i] = (at(h) - at(-h)) / (2 * h);
  }
  return { shape: base.shape, values: grad };
}

function analyticGradients(f: Fn, inputs: HostTensor[]): HostTensor[] {
  const xs = inputs.map(fromHost);
  const grads = tf.grads((...args: tf.Tensor[]) => weightedLoss(f, args))(xs);
  const hosts = grads.map(toHost);
  tf.dispose([...xs, ...grads]);
  return hosts;
}

const x23 = [2, 3];
const cases: { name: string; f: Fn; inputs: HostTensor[]; h?: number }[] = [
  { name: 'add (broadcast)', f: (a, b) => tf.add(a!, b!), inputs: [randomHost(x23, 1), randomHost([3], 2)] },
  { name: 'sub (broadcast)', f: (a, b) => tf.sub(a!, b!), inputs: [randomHost([3], 3), randomHost(x23, 4)] },
  { name: 'mul (broadcast)', f: (a, b) => tf.mul(a!, b!), inputs: [randomHost(x23, 5), randomHost([2, 1], 6)] },
  { name: 'div', f: (a, b) => tf.div(a!, b!), inputs: [randomHost(x23, 7), positive(x23, 8)] },
  { name: 'maximum', f: (a, b) => tf.maximum(a!, b!), inputs: [awayFromZero(x23, 9), { shape: x23, values: new Float32Array(6) }] },
  { name: 'squaredDifference', f: (a, b) => tf.squaredDifference(a!, b!), inputs: [randomHost(x23, 10), randomHost(x23, 11)] },
  { name: 'addN', f: (a, b) => tf.addN([a!, b!, a!]), inputs: [randomHost(x23, 12), randomHost(x23, 13)] },
  { name: 'neg, square, exp', f: (a) => tf.exp(tf.neg(tf.square(a!))), inputs: [randomHost(x23, 14)] },
  { name: 'log, sqrt, rsqrt', f: (a) => tf.add(tf.log(a!), tf.add(tf.sqrt(a!), tf.rsqrt(a!))), inputs: [positive(x23, 15)] },
  { name: 'abs, relu, relu6', f: (a) => tf.add(tf.abs(a!), tf.add(tf.relu(a!), tf.relu6(tf.mul(a!, 8)))), inputs: [awayFromZero(x23, 16)] },
  { name: 'sigmoid, tanh', f: (a) => tf.mul(tf.sigmoid(a!), tf.tanh(a!)), inputs: [randomHost(x23, 17)] },
  { name: 'leakyRelu, clipByValue', f: (a) => tf.add(tf.leakyRelu(a!, 0.3), tf.clipByValue(a!, -0.15, 3)), inputs: [awayFromZero([2, 4], 18)] },
  { name: 'sum, mean, max', f: (a) => tf.add(tf.sum(a!, 1), tf.add(tf.mean(a!, 1), tf.max(a!, 1))), inputs: [randomHost([3, 4], 19)] },
  { name: 'reshape, transpose', f: (a) => tf.transpose(tf.reshape(a!, [3, 2, 2]), [2, 0, 1]), inputs: [randomHost([2, 6], 20)] },
  { name: 'pad, slice', f: (a) => tf.slice(tf.pad(a!, [[1, 0], [2, 1]]), [0, 1], [2, 4]), inputs: [randomHost(x23, 21)] },
  { name: 'tile, concat', f: (a, b) => tf.concat([tf.tile(a!, [2, 1]), b!], 1), inputs: [randomHost(x23, 22), randomHost([4, 2], 23)] },
  { name: 'softmax', f: (a) => tf.softmax(a!), inputs: [randomHost([3, 4], 24)] },
  { name: 'matMul', f: (a, b) => tf.matMul(a!, b!), inputs: [randomHost(x23, 25), randomHost([3, 4], 26)] },
  { name: 'matMul transposeA', f: (a, b) => tf.matMul(a!, b!, true, false), inputs: [randomHost([3, 2], 27), randomHost([3, 4], 28)] },
  { name: 'matMul transposeB', f: (a, b) => tf.matMul(a!, b!, false, true), inputs: [randomHost(x23, 29), randomHost([4, 3], 30)] },
  { name: 'matMul both', f: (a, b) => tf.matMul(a!, b!, true, true), inputs: [randomHost([3, 2], 31), randomHost([4, 3], 32)] },
  {
    name: 'batchNorm with batch moments',
    f: (x, g, b) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2]);
      return tf.batchNorm(x!, mean, variance, b!, g!, 1e-3);
    },
    inputs: [randomHost([2, 3, 3, 2], 33), randomHost([2], 34), randomHost([2], 35)],
  },
  {
    name: 'batchNorm with given statistics',
    f: (x, m, v, g, b) => tf.batchNorm(x!, m!, v!, b!, g!, 1e-3),
    inputs: [randomHost([2, 2, 2, 3], 36), randomHost([3], 37), positive([3], 38), randomHost([3], 39), randomHost([3], 40)],
  },
  { name: 'conv2d stride 2 same', f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), inputs: [randomHost([2, 5, 5, 2], 41), randomHost([3, 3, 2, 3], 42)] },
  { name: 'maxPool', f: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), inputs: [randomHost([1, 4, 4, 2], 43)] },
  { name: 'avgPool', f: (x) => tf.avgPool(x as tf.Tensor4D, 2, 1, 'valid'), inputs: [randomHost([1, 3, 3, 2], 44)] },
];

describe('gradient formulas match finite differences (cpu)', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('cpu');
  });

  for (const c of cases) {
    it(c.name, () => {
      const analytic = analyticGradients(c.f, c.inputs);
      c.inputs.forEach((_input, i) => {
        const numeric = numericGradient(c.f, c.inputs, i, c.h ?? 1e-2);
        expect(relativeError(analytic[i]!, numeric), `input ${i}`).toBeLessThan(2e-2);
      });
    });
  }
});
