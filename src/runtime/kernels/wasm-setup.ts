// Starts tfjs's wasm backend in Node: the .wasm binaries are read from the
// installed package's dist folder (Node has no page to fetch them relative to).
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmTrainingKernels } from './index.js';

let pathsSet = false;

/** Folder (with trailing separator) that holds tfjs-backend-wasm's .wasm files. */
export function wasmBinaryFolder(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

/**
 * Makes 'wasm' the active backend with mono's training kernels. tfjs 4.22 runs
 * wasm single-threaded under Node (its WASM_HAS_MULTITHREAD_SUPPORT flag is false
 * there; its worker script is a browser Blob URL), so no thread count is set.
 */
export async function initWasmBackend(): Promise<void> {
  if (!pathsSet) {
    setWasmPaths(wasmBinaryFolder());
    pathsSet = true;
  }
  registerWasmTrainingKernels();
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error(`mono: the wasm backend failed to start (binaries looked up in ${wasmBinaryFolder()})`);
}
