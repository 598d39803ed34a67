import * as tf from '@tensorflow/tfjs-core';
import type { AttrValue, IRNode } from '../ir/types.js';
import { batchNormTrain } from './kernels/batch-norm-train.js';

/** How one forward pass runs: training mode uses batch statistics and dropout. */
export interface ForwardMode {
  training: boolean;
  /** Seed source for dropout masks (training only); one call per dropout node per step. */
  nextSeed?: () => number;
}

export class GraphError extends Error {}

function num(node: IRNode, name: string, fallback?: number): number {
  const value = node.attrs[name];
  if (typeof value === 'number') return value;
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0];
  if (fallback !== undefined) return fallback;
  throw new GraphError(`node ${node.id} (${node.op}): attribute '${name}' missing or not a number`);
}

function pair(value: AttrValue | undefined, fallback: number): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length >= 2) return [value[0]!, value[1]!];
  if (Array.isArray(value) && value.length === 1) return [value[0]!, value[0]!];
  return [fallback, fallback];
}

function padding(node: IRNode): 'same' | 'valid' {
  return node.attrs['padding'] === 'valid' ? 'valid' : 'same';
}

/**
 * Step activation: 1 for x >= threshold, else 0 (the seed paper's binary unit, which
 * fires at its threshold; 0 by default). Its gradient is the surrogate 1 on
 * [threshold, threshold + tau/4] and 0 elsewhere, so a binary unit can still learn
 * near its threshold.
 */
export function binaryActivation(x: tf.Tensor, tau: number, threshold = 0): tf.Tensor {
  if (threshold !== 0) return binaryActivation(tf.sub(x, threshold), tau);
  const step = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([input]);
    return {
      value: tf.cast(tf.greaterEqual(input, 0), 'float32'),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const inside = tf.logicalAnd(tf.greaterEqual(saved[0]!, 0), tf.lessEqual(saved[0]!, tau / 4));
        return tf.mul(dy as tf.Tensor, tf.cast(inside, 'float32'));
      },
    };
  });
  return step(x);
}

/** tanh approximation of GELU (tfjs-core has no gelu op); x^3 as products, whose gradients every backend has. */
function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.square(x)))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

/** ELU with its gradient spelled out from its output (the memory model's coefficients are measured for this form). */
function elu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.elu(input);
    save([input, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        tf.mul(dy as tf.Tensor, tf.where(tf.greater(saved[0]!, 0), tf.onesLike(saved[1]!), tf.add(saved[1]!, 1))),
    };
  });
  return f(x);
}

function batchNorm(node: IRNode, x: tf.Tensor, params: tf.Variable[], mode: ForwardMode, relu: boolean): tf.Tensor {
  const [gamma, beta, movingMean, movingVariance] = params;
  if (!gamma || !beta || !movingMean || !movingVariance) throw new GraphError(`node ${node.id}: batchnorm needs 4 parameters`);
  const epsilon = num(node, 'epsilon', 1e-3);
  if (!mode.training) {
    const y = tf.batchNorm(x, movingMean, movingVariance, beta, gamma, epsilon);
    return relu ? tf.relu(y) : y;
  }
  // One fused op on wasm (mono's SIMD kernels, the ReLU included), tf.moments + tf.batchNorm elsewhere.
  const { y, mean, variance } = batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, epsilon, { relu });
  // Keras convention: moving = momentum * moving + (1 - momentum) * batch (biased batch variance).
  // assign() keeps the new value alive past the caller's tidy; the moving statistics are
  // not trainable variables, so no gradient is taken through this update.
  const momentum = num(node, 'momentum', 0.99);
  movingMean.assign(tf.add(tf.mul(movingMean, momentum), tf.mul(mean, 1 - momentum)));
  movingVariance.assign(tf.add(tf.mul(movingVariance, momentum), tf.mul(variance, 1 - momentum)));
  return y;
}

/**
 * Runs one IR node. `inputs` and `params` are in the IR's order. `fuseRelu` (a batchnorm
 * whose only consumer is a relu): the relu is applied here, in the same kernel on wasm,
 * and the caller skips the relu node.
 */
export function applyNode(node: IRNode, inputs: tf.Tensor[], params: tf.Variable[], mode: ForwardMode, fuseRelu = false): tf.Tensor {
  const x = inputs[0];
  if (!x) throw new GraphError(`node ${node.id} (${node.op}) has no input`);
  switch (node.op) {
    case 'conv2d': {
      const [kernel, bias] = params;
      if (!kernel) throw new GraphError(`node ${node.id}: conv2d without kernel`);
      const y = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, pair(node.attrs['stride'], 1), padding(node));
      return bias ? tf.add(y, bias) : y;
    }
    case 'dense': {
      const [kernel, bias] = params;
      if (!kernel) throw new GraphError(`node ${node.id}: dense without kernel`);
      const flat = x.rank === 2 ? x : tf.reshape(x, [x.shape[0]!, -1]);
      const y = tf.matMul(flat as tf.Tensor2D, kernel as tf.Tensor2D);
      return bias ? tf.add(y, bias) : y;
    }
    case 'batchnorm':
      return batchNorm(node, x, params, mode, fuseRelu);
    case 'relu':
      return tf.relu(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, num(node, 'alpha', 0.2));
    case 'elu':
      return elu(x);
    case 'gelu':
      return gelu(x);
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'binary':
      return binaryActivation(x, num(node, 'tau', 1), num(node, 'threshold', 0));
    case 'maxpool': {
      const size = pair(node.attrs['size'], 2);
      return tf.maxPool(x as tf.Tensor4D, size, pair(node.attrs['stride'], size[0]), padding(node));
    }
    case 'avgpool': {
      const size = pair(node.attrs['size'], 2);
      return tf.avgPool(x as tf.Tensor4D, size, pair(node.attrs['stride'], size[0]), padding(node));
    }
    case 'global_avg_pool':
      return tf.mean(x, [1, 2]);
    case 'global_max_pool':
      return tf.max(x, [1, 2]);
    case 'flatten':
      return tf.reshape(x, [x.shape[0]!, -1]);
    case 'crop':
      return tf.slice(x, [0, 0, 0, 0], [-1, num(node, 'height'), num(node, 'width'), -1]);
    case 'dropout': {
      const rate = num(node, 'rate', 0.5);
      if (!mode.training || rate <= 0) return x;
      return tf.dropout(x, rate, undefined, mode.nextSeed ? mode.nextSeed() : undefined);
    }
    case 'add': {
      const branch = inputs[1];
      if (!branch) throw new GraphError(`node ${node.id}: add needs [skip, branch]`);
      const scale = num(node, 'scale', 1);
      return tf.add(x, scale === 1 ? branch : tf.mul(branch, scale));
    }
  }
}
