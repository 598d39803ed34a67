// Shared helpers: run the same computation on the wasm and cpu backends and
// compare with an error relative to the largest reference magnitude.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initWasmBackend } from '../../../src/runtime/kernels/wasm-setup.js';

export interface HostTensor {
  shape: number[];
  values: Float32Array;
}

export function toHost(t: tf.Tensor): HostTensor {
  return { shape: t.shape.slice(), values: t.dataSync() as Float32Array };
}

export function fromHost(h: HostTensor): tf.Tensor {
  return tf.tensor(h.values, h.shape, 'float32');
}

/** Runs `compute` on `backend` with inputs copied in; returns its outputs as host arrays. */
export async function runOn(backend: 'cpu' | 'wasm', inputs: HostTensor[],
  compute: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<HostTensor[]> {
  if (backend === 'wasm') await initWasmBackend();
  else await tf.setBackend('cpu');
  let outputs: HostTensor[] = [];
  tf.tidy(() => {
    const result = compute(...inputs.map(fromHost));
    outputs = (Array.isArray(result) ? result : [result]).map(toHost);
  });
  return outputs;
}

/** max |got - want| / max |want| (0 when both are all zero). */
export function relativeError(got: HostTensor, want: HostTensor): number {
  if (got.shape.join() !== want.shape.join()) return Number.POSITIVE_INFINITY;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.values.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got.values[i]! - want.values[i]!));
    maxRef = Math.max(maxRef, Math.abs(want.values[i]!));
  }
  if (Number.isNaN(maxDiff)) return Number.POSITIVE_INFINITY;
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** Seeded pseudo-random host tensor with values in [-1, 1). */
export function randomHost(shape: number[], seed: number): HostTensor {
  let state = (seed * 2654435761) >>> 0 || 1;
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return { shape, values };
}

/** Outputs on wasm and cpu and their largest relative error. */
export async function compareBackends(inputs: HostTensor[],
  compute: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<number> {
  const got = await runOn('wasm', inputs, compute);
  const want = await runOn('cpu', inputs, compute);
  return Math.max(...want.map((w, i) => relativeError(got[i]!, w)));
}
