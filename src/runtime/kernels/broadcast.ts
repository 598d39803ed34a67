// Reducing broadcast gradients back to an operand's shape.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Sums a broadcast gradient back down to the shape of the operand. Always a new
 * tensor: the tape disposes a gradient once it adds another to it, so a closure
 * handing back dy itself (Add's, for both operands) frees a tensor still in use.
 */
export function sumToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g.clone();
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  const reduced = axes.length > 0 ? tf.sum(g, axes) : g;
  return tf.reshape(reduced, shape);
}

