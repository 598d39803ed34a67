// Gradient of FusedBatchNorm (tf.batchNorm) through broadcasting and one
// reduction per operand. tfjs's own gradient tiles the per-channel statistics
// up to the full tensor, and Tile on wasm takes ~100+ ms for 64x32x32x16.
//
// y = (x - mean) * invStd * scale + offset, invStd = 1 / sqrt(variance + eps).
import * as tf from '@tensorflow/tfjs-core';
import { sumToShape } from './broadcast.js';

/** The shape `operand` has once aligned right against x ([C] -> [1,1,1,C]). */
function alignedShape(x: tf.Tensor, operand: tf.Tensor): number[] {
  const lead = x.rank - operand.rank;
  return x.shape.map((_d, i) => (i < lead ? 1 : operand.shape[i - lead]!));
}

/** Sums an x-shaped tensor down to `operand`'s shape. */
function reduceTo(t: tf.Tensor, x: tf.Tensor, operand: tf.Tensor): tf.Tensor {
  return tf.reshape(sumToShape(t, alignedShape(x, operand)), operand.shape);
}

export const batchNormGradient: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale', 'offset'],
  gradFunc: (dy, saved, attrs) => {
    if (Array.isArray(dy)) throw new Error('mono gradients: FusedBatchNorm has one output');
    const [x, mean, variance, scale, offset] =
      saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined, tf.Tensor | undefined];
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const invStd = tf.rsqrt(tf.add(variance, varianceEpsilon));
    const scaledInvStd = scale === undefined ? invStd : tf.mul(invStd, scale);
    const withScale = (t: tf.Tensor): tf.Tensor => (scale === undefined ? t : tf.mul(t, scale));
    const grads: ReturnType<tf.GradConfig['gradFunc']> = {
      x: () => sumToShape(tf.mul(dy, scaledInvStd), x.shape),
      mean: () => tf.neg(reduceTo(tf.mul(dy, scaledInvStd), x, mean)),
      variance: () => {
        const dyCentred = reduceTo(tf.mul(dy, tf.sub(x, mean)), x, variance);
        return tf.mul(withScale(tf.mul(dyCentred, tf.pow(invStd, 3))), -0.5);
      },
    };
    if (scale !== undefined) {
      grads['scale'] = () => reduceTo(tf.mul(tf.mul(dy, tf.sub(x, mean)), invStd), x, scale);
    }
    if (offset !== undefined) grads['offset'] = () => reduceTo(dy, x, offset);
    return grads;
  },
};
