// Starts tfjs's wasm backend in Node: the .wasm binaries are read from the
// installed package's dist folder (Node has no page to fetch them relative to),
// and with more than one CPU the threaded-SIMD binary is used (wasm-threads.ts),
// falling back to tfjs's own single-threaded start if that fails.
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { registerWasmTrainingKernels } from './index.js';
import { MAX_WASM_THREADS, startThreadedWasmBackend } from './wasm-threads.js';

const WASM = 'wasm';

export interface WasmThreadInfo {
  threads: number;
  simd: boolean;
  reason: string;
}

let threadInfo: WasmThreadInfo = { threads: 0, simd: false, reason: 'wasm backend not started' };
let factoryInstalled = false;

/** Threads, SIMD and why, once the wasm backend has started (for `mono doctor`). */
export function wasmThreadInfo(): WasmThreadInfo {
  return { ...threadInfo };
}

/** Folder (with trailing separator) that holds tfjs-backend-wasm's .wasm files. */
export function wasmBinaryFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/** How many threads to ask for, and why: MONO_WASM_THREADS, else one per CPU. */
export function plannedWasmThreads(env: NodeJS.ProcessEnv = process.env,
  cpus: number = os.availableParallelism()): { threads: number; reason: string } {
  const setting = env['MONO_WASM_THREADS'];
  if (setting !== undefined && setting !== '') {
    const n = Number(setting);
    if (!Number.isInteger(n) || n < 0) return { threads: 1, reason: `MONO_WASM_THREADS=${setting} is not a count; single-threaded` };
    if (n <= 1) return { threads: 1, reason: `MONO_WASM_THREADS=${setting}` };
    return { threads: Math.min(n, MAX_WASM_THREADS), reason: `MONO_WASM_THREADS=${setting}` };
  }
  if (cpus <= 1) return { threads: 1, reason: 'one CPU' };
  return { threads: Math.min(cpus, MAX_WASM_THREADS), reason: `${cpus} CPUs` };
}

/** Replaces tfjs's 'wasm' factory by one that tries the threaded binary first. */
function installWasmFactory(): void {
  const engine = tf.engine();
  const shipped = engine.registryFactory[WASM];
  if (shipped === undefined) throw new Error('mono: @tensorflow/tfjs-backend-wasm registered no wasm backend');
  const started = (threads: number, simd: boolean, reason: string): void => {
    threadInfo = { threads, simd, reason };
  };
  const single = async (simd: boolean, reason: string): Promise<tf.KernelBackend> => {
    const backend = await shipped.factory();
    started(getThreadsCount(), simd, reason);
    return backend;
  };
  tf.removeBackend(WASM);
  tf.registerBackend(WASM, async () => {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean;
    const plan = plannedWasmThreads();
    if (plan.threads <= 1) return single(simd, plan.reason);
    if (!simd) return single(simd, 'no WebAssembly SIMD (the threaded binary needs it)');
    try {
      const backend = await startThreadedWasmBackend(plan.threads);
      started(getThreadsCount(), true, `threaded-SIMD binary, ${plan.reason}`);
      return backend;
    } catch (e) {
      return single(simd, `threaded start failed (${(e as Error).message}); single-threaded`);
    }
  }, shipped.priority);
}

/** Makes 'wasm' the active backend with mono's training kernels. */
export async function initWasmBackend(): Promise<void> {
  if (!factoryInstalled) {
    setWasmPaths(wasmBinaryFolder());
    // A wasm backend someone already started stays as it is.
    if (tf.engine().registry[WASM] === undefined) installWasmFactory();
    else threadInfo = { threads: getThreadsCount(), simd: false, reason: 'started before initWasmBackend' };
    factoryInstalled = true;
  }
  registerWasmTrainingKernels();
  const ok = await tf.setBackend(WASM);
  if (!ok) throw new Error(`mono: the wasm backend failed to start (binaries looked up in ${wasmBinaryFolder()})`);
}
