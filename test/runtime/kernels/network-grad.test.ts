import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initWasmBackend } from '../../../src/runtime/kernels/wasm-setup.js';
import { compareBackends, randomHost } from './helpers.js';

/** conv(s1) -> bn -> relu -> conv(s2, valid) + shortcut -> maxPool -> avgPool -> mean -> dense -> xent. */
function loss(x: tf.Tensor, w1: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, w2: tf.Tensor,
  wd: tf.Tensor, bias: tf.Tensor): tf.Scalar {
  const c1 = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same');
  const { mean, variance } = tf.moments(c1, [0, 1, 2]);
  const h = tf.relu(tf.batchNorm(c1, mean, variance, beta, gamma, 1e-3));
  const c2 = tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same');
  const shortcut = tf.avgPool(h as tf.Tensor4D, 2, 2, 'valid');
  const r = tf.relu(tf.add(c2, tf.tile(shortcut, [1, 1, 1, 2])));
  const pooled = tf.maxPool(r as tf.Tensor4D, 2, 1, 'same');
  const features = tf.mean(pooled, [1, 2]);
  const logits = tf.add(tf.matMul(features as tf.Tensor2D, wd as tf.Tensor2D), bias);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

const shapes = [[4, 8, 8, 3], [3, 3, 3, 4], [4], [4], [3, 3, 4, 8], [8, 3], [3]];

describe('full gradient of a conv-bn-relu-pool-dense network', () => {
  it('matches the cpu backend on wasm', async () => {
    const inputs = shapes.map((s, i) => randomHost(s, 11 + i));
    const err = await compareBackends(inputs, (...xs) => tf.grads(loss)(xs));
    expect(err).toBeLessThan(1e-4);
  });

  it('keeps the tensor count flat across repeated gradient calls', async () => {
    await initWasmBackend();
    const xs = shapes.map((s) => tf.randomNormal(s));
    const step = (): void => tf.dispose(tf.grads(loss)(xs));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
  });
});
