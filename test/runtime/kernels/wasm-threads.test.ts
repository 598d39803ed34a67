import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { plannedWasmThreads, type WasmThreadInfo } from '../../../src/runtime/kernels/wasm-setup.js';

describe('plannedWasmThreads', () => {
  it('asks for one thread per CPU unless MONO_WASM_THREADS says otherwise', () => {
    expect(plannedWasmThreads({}, 1).threads).toBe(1);
    expect(plannedWasmThreads({}, 2)).toEqual({ threads: 2, reason: '2 CPUs' });
    expect(plannedWasmThreads({}, 64).threads).toBe(8);
    expect(plannedWasmThreads({ MONO_WASM_THREADS: '0' }, 16)).toEqual({ threads: 1, reason: 'MONO_WASM_THREADS=0' });
    expect(plannedWasmThreads({ MONO_WASM_THREADS: '3' }, 2).threads).toBe(3);
    expect(plannedWasmThreads({ MONO_WASM_THREADS: 'many' }, 4).threads).toBe(1);
    expect(plannedWasmThreads({ MONO_WASM_THREADS: '' }, 4).threads).toBe(4);
  });
});

/**
 * In a fresh process (its wasm backend is chosen once): start wasm, take a conv
 * gradient of batch 16, compare with cpu, print the thread info. The process
 * must then exit by itself, so no pool thread keeps it alive. `--input-type` is
 * one of the options a worker must not inherit.
 */
const childScript = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initWasmBackend, wasmThreadInfo } from './src/runtime/kernels/wasm-setup.js';
const grads = () => tf.tidy(() => {
  const x = tf.tensor4d(Array.from({ length: 16 * 12 * 12 * 8 }, (_, i) => Math.sin(i)), [16, 12, 12, 8]);
  const w = tf.tensor4d(Array.from({ length: 3 * 3 * 8 * 16 }, (_, i) => Math.cos(i)), [3, 3, 8, 16]);
  const f = (a, b) => tf.sum(tf.square(tf.conv2d(a, b, 2, 'same')));
  return tf.grads(f)([x, w]).map((g) => g.dataSync());
});
await initWasmBackend();
const got = grads();
await tf.setBackend('cpu');
const want = grads();
let err = 0;
want.forEach((w, k) => {
  const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  w.forEach((v, i) => { err = Math.max(err, Math.abs(got[k][i] - v) / scale); });
});
console.log(JSON.stringify({ info: wasmThreadInfo(), err }));
`;

function runChild(env: Record<string, string>): { info: WasmThreadInfo; err: number } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env['MONO_WASM_THREADS'] === undefined) delete childEnv['MONO_WASM_THREADS'];
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript], {
    cwd: new URL('../../..', import.meta.url).pathname, env: childEnv, encoding: 'utf8', timeout: 50_000,
  });
  expect(result.error, 'the process did not exit by itself').toBeUndefined();
  expect(result.status, result.stderr).toBe(0);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as { info: WasmThreadInfo; err: number };
}

describe('wasm threads in Node', () => {
  it('uses the threaded binary with several CPUs, matches cpu, and the process exits', () => {
    const { info, err } = runChild({});
    expect(err).toBeLessThan(1e-4);
    if (os.availableParallelism() > 1) {
      expect(info.threads).toBe(Math.min(os.availableParallelism(), 8));
      expect(info.simd).toBe(true);
      expect(info.reason).toMatch(/threaded-SIMD/);
    } else {
      expect(info.threads).toBe(1);
    }
  });

  it('MONO_WASM_THREADS=0 keeps the single-threaded binary', () => {
    const { info, err } = runChild({ MONO_WASM_THREADS: '0' });
    expect(err).toBeLessThan(1e-4);
    expect(info).toMatchObject({ threads: 1, reason: 'MONO_WASM_THREADS=0' });
  });
});
