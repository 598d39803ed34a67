import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/runtime/backend.js';
import { Network } from '../../src/runtime/graph.js';
import { Rng } from '../../src/runtime/rng.js';
import { tinyIR } from './tiny-ir.js';

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

describe('inference releases each output once its consumers have run', () => {
  // A residual (its skip outlives the branch), a dropout (in inference it hands back its input) and a proxy head.
  const ir = tinyIR({ shared: true, dropout: 0.5 });

  it("leaves only the output behind, the caller's input untouched, and computes what the taped pass does", () => {
    const network = new Network(ir, new Rng(3));
    const x = tf.randomNormal([5, 6, 6, 1]);
    const before = tf.memory().numTensors;
    const features = network.runPartitions(['p1', 'p2'], x, { training: false });
    expect(tf.memory().numTensors).toBe(before + 1);
    const logits = network.runHead('p1', network.runPartition('p1', x, { training: false }), { training: false }, true);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(x.isDisposed).toBe(false);

    // On a gradient tape nothing is released early: the same values, every output kept until the tidy ends.
    const taped = tf.variableGrads(() => tf.sum(network.forward(x, { training: false })) as tf.Scalar);
    expect(taped.value.dataSync()[0]).toBeCloseTo(tf.sum(features).dataSync()[0]!, 4);
    expect(logits.shape).toEqual([5, 3]);
    tf.dispose([x, features, logits, taped.value, ...Object.values(taped.grads)]);
    network.dispose();
  });

  it('keeps every output in training mode (backprop may need any of them)', () => {
    const network = new Network(ir, new Rng(3));
    const x = tf.randomNormal([5, 6, 6, 1]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      network.runPartition('p1', x, { training: true, nextSeed: () => 1 });
      // conv, bn and relu outputs, and the intermediates of the training-mode BatchNorm
      expect(tf.memory().numTensors).toBeGreaterThan(before + 3);
    });
    tf.dispose(x);
    network.dispose();
  });
});
