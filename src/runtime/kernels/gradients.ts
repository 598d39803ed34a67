// The gradients mono registers in place of TensorFlow.js's own, because they measured
// faster on wasm (`npm run bench:gradients`, docs/kernels.md). Every other gradient is
// tfjs's: @tensorflow/tfjs registers them all (kernels/index.ts imports it), so every
// backend runs one gradient set, the one the tests check.
//
// Sum, Mean: tfjs's broadcast dy with `ones(x.shape)`, a ones array filled in JavaScript
// and uploaded to the backend on every call; OnesLike is one kernel (2.5x and 1.6x).
// Sigmoid: tfjs's computes sigmoid(x) twice more; the output is already there (1.4x).
import * as tf from '@tensorflow/tfjs-core';

function single(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(dy)) throw new Error('mono gradients: expected one upstream gradient');
  return dy;
}

function saved(tensors: tf.Tensor[], index: number): tf.Tensor {
  const t = tensors[index];
  if (t === undefined) throw new Error(`mono gradients: saved tensor ${index} missing`);
  return t;
}

/** Shape of a reduction's result with the reduced axes kept as size 1. */
function keptShape(xShape: number[], axis: number | number[]): number[] {
  const axes = tf.util.parseAxisParam(axis, xShape);
  return xShape.map((size, i) => (axes.includes(i) ? 1 : size));
}

export const reductionGradients: readonly tf.GradConfig[] = [
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const { axis } = attrs as unknown as tf.SumAttrs;
      return { x: () => tf.mul(tf.reshape(single(dy), keptShape(x.shape, axis)), tf.onesLike(x)) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, s, attrs) => {
      const x = saved(s, 0);
      const { axis } = attrs as unknown as tf.MeanAttrs;
      const kept = keptShape(x.shape, axis);
      const count = x.size / tf.util.sizeFromShape(kept);
      return { x: () => tf.mul(tf.reshape(tf.div(single(dy), count), kept), tf.onesLike(x)) };
    },
  },
];

export const sigmoidGradient: tf.GradConfig = {
  kernelName: tf.Sigmoid,
  outputsToSave: [true],
  gradFunc: (dy, s) => {
    const y = saved(s, 0);
    return { x: () => tf.mul(single(dy), tf.mul(y, tf.sub(1, y))) };
  },
};
