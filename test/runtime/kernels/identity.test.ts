// mono's Identity on wasm shares the input's data (the engine clones every tensor a
// gradient saves): no copy, and the data lives until the last tensor using it is freed.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initWasmBackend } from '../../../src/runtime/kernels/wasm-setup.js';

describe('Identity on wasm', () => {
  it('shares the data of its input and frees it with the last tensor', async () => {
    await initWasmBackend();
    const backend = tf.backend();
    const before = backend.numDataIds();
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(backend.numDataIds()).toBe(before + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(backend.numDataIds()).toBe(before);
  });

  it('leaves a clone unchanged when the variable it was taken from is assigned', async () => {
    await initWasmBackend();
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const saved = tf.clone(v);
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(saved.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, saved]);
  });
});
