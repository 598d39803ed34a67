// Shared helpers: run the same computation on the wasm (or webgpu) and cpu backends
// and compare with an error relative to the largest reference magnitude.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { initWasmBackend } from '../../../src/runtime/kernels/wasm-setup.js';

export type TestBackend = 'cpu' | 'wasm' | 'webgpu';

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

async function activate(backend: TestBackend): Promise<void> {
  if (backend === 'wasm') await initWasmBackend();
  else if (backend === 'webgpu') {
    const { initWebgpuBackend } = await import('../../../src/runtime/kernels/webgpu/setup.js');
    await initWebgpuBackend({ allowCpu: true });
  } else await tf.setBackend('cpu');
}

/**
 * Runs `compute` on `backend` with inputs copied in; returns its outputs as host
 * arrays (read asynchronously: webgpu has no synchronous read in Node).
 */
export async function runOn(backend: TestBackend, inputs: HostTensor[],
  compute: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<HostTensor[]> {
  await activate(backend);
  const result = tf.tidy(() => compute(...inputs.map(fromHost)));
  const tensors = Array.isArray(result) ? result : [result];
  try {
    return await Promise.all(tensors.map(async (t) => ({ shape: t.shape.slice(), values: Float32Array.from(await t.data()) })));
  } finally {
    tf.dispose(tensors);
  }
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

/** Outputs on `backend` (wasm by default) and cpu and their largest relative error. */
export async function compareBackends(inputs: HostTensor[],
  compute: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], backend: TestBackend = 'wasm'): Promise<number> {
  const got = await runOn(backend, inputs, compute);
  const want = await runOn('cpu', inputs, compute);
  return Math.max(...want.map((w, i) => relativeError(got[i]!, w)));
}

type Range = [min: number, max: number];

/**
 * Random convolution problems: sizes and channel counts from the ranges given, strides 1
 * and 2, 'same' and 'valid' padding ('valid' only where the output is non-empty).
 */
export function convCases(r: { size: Range; inChannels: Range; outChannels: Range; filterHeight: Range; filterWidth: Range }) {
  const int = ([min, max]: Range) => fc.integer({ min, max });
  return fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    height: int(r.size),
    width: int(r.size),
    inChannels: int(r.inChannels),
    outChannels: int(r.outChannels),
    filterHeight: int(r.filterHeight),
    filterWidth: int(r.filterWidth),
    stride: fc.constantFrom(1, 2),
    pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  }).filter((c) => c.pad === 'same' || (c.filterHeight <= c.height && c.filterWidth <= c.width));
}
