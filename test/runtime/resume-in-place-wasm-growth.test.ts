// On the single-threaded wasm binary the heap is a plain ArrayBuffer, which growing
// detaches: a view of a tensor's bytes taken before the heap grew writes nowhere. The
// reader takes the view again for every chunk (tensorDestination), so values still land.
// (The threaded binary, the default with two or more CPUs, shares its memory: old
// buffers stay valid there.) Its own file: the binary is chosen when the backend starts.
process.env['MONO_WASM_THREADS'] = '1';

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/runtime/backend.js';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { heapBuffer } from '../../src/runtime/kernels/simd/module.js';
import { createRunFolder } from '../../src/runtime/run-folder.js';
import { setUpRun } from '../../src/runtime/run-setup.js';
import { runSession } from '../../src/runtime/session.js';
import { tensorDestination } from '../../src/runtime/tensor-memory.js';
import { tinyIR } from './tiny-ir.js';

let root: string;
beforeAll(async () => {
  await selectBackend({ force: 'wasm' });
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-wasm-growth-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

describe('reading a checkpoint into wasm tensors while the heap grows', () => {
  it('puts every value in place although the heap grew between two chunks of each tensor', async () => {
    const ir = tinyIR({ epochs: [1, 1], examples: 60, holdout: 12 });
    const dir = path.join(root, 'run');
    await createRunFolder(dir, { source: 'plan tiny\n', ir, info: { plan: 'tiny', planFile: 'tiny.mono', seed: 3, set: {}, backend: 'wasm', startedAt: '' } });
    await runSession({ ir, dir, seed: 3, maxEpochs: 1 });
    const wasm = tf.backend() as BackendWasm;
    const first = heapBuffer(wasm)!;
    expect(first).toBeInstanceOf(ArrayBuffer);
    const { network } = await setUpRun(ir, { seed: 4 });
    const held: tf.Tensor[] = [];
    try {
      const checkpoint = await readCheckpoint(dir, {
        chunkBytes: 64,
        destination: (entry) => {
          const destination = entry.kind === 'weight' ? tensorDestination(network.variable(entry.name)) : undefined;
          if (!destination) return undefined;
          return {
            length: destination.length,
            bytes: (start, length) => {
              // Before each tensor's second chunk: 32 MiB more on the heap, which makes it grow.
              if (start === 64) held.push(tf.zeros([8 << 20]));
              return destination.bytes(start, length);
            },
          };
        },
      });
      // The heap grew, and the buffer of before is detached.
      expect(heapBuffer(wasm)!.byteLength).toBeGreaterThan(first.byteLength);
      expect(first.byteLength).toBe(0);
      expect(checkpoint.readInPlace?.length).toBe(network.paramSpecs().length);
      const expected = Object.fromEntries((await readCheckpoint(dir)).weights.map((w) => [w.name, bits(w.values)]));
      const actual = Object.fromEntries((await network.getWeights()).map((w) => [w.name, bits(w.values)]));
      expect(actual).toEqual(expected);
    } finally {
      tf.dispose(held);
      network.dispose();
    }
  });
});
