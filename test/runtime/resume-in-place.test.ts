// A resume reads the checkpoint's parameters straight into the network's own tensors,
// and its optimizer slots into the optimizer the resumed phase trains with
// (restoreCheckpointFile): bit for bit on cpu and wasm, with no array of a tensor's size
// allocated, the fit checked before any value is written, and a damaged file a
// RuntimeFailure that ends the session before the half-overwritten network is used.
// --init-from (loadWeightsFile) reads the weights that fit the same way.
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IR } from '../../src/ir/types.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { CHECKPOINT_FILE, readCheckpoint, readCheckpointHeader, valueMemory } from '../../src/runtime/checkpoint.js';
import { RuntimeFailure } from '../../src/runtime/errors.js';
import type { Network } from '../../src/runtime/graph.js';
import { createRunFolder, readMetrics } from '../../src/runtime/run-folder.js';
import { setUpRun } from '../../src/runtime/run-setup.js';
import { loadWeightsFile, restoreCheckpointFile } from '../../src/runtime/load-checkpoint.js';
import { runSession, saveCheckpoint } from '../../src/runtime/session.js';
import { tensorDestination, tensorSource } from '../../src/runtime/tensor-memory.js';
import { Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-resume-in-place-'));
});
afterAll(async () => {
  await selectBackend({ force: 'cpu' });
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function newRun(name: string, ir: IR): Promise<string> {
  const dir = path.join(root, name);
  await createRunFolder(dir, { source: 'plan tiny\n', ir, info: { plan: 'tiny', planFile: 'tiny.mono', seed: 3, set: {}, backend: tf.getBackend(), startedAt: '' } });
  return dir;
}

const comparable = (metrics: EpochMetrics[]) => metrics.map(({ seconds: _s, examples_per_s: _e, ...rest }) => rest);
const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

/** Every parameter's bits as the network holds them now. */
async function networkBits(network: Network): Promise<Record<string, number[]>> {
  return Object.fromEntries((await network.getWeights()).map((w) => [w.name, bits(w.values)]));
}

/** Every weight's bits in a checkpoint file. */
async function checkpointBits(dir: string): Promise<Record<string, number[]>> {
  return Object.fromEntries((await readCheckpoint(dir)).weights.map((w) => [w.name, bits(w.values)]));
}

/** Flips one byte of a checkpoint's values (after the header, before the trailer). */
async function damage(dir: string): Promise<void> {
  const file = path.join(dir, CHECKPOINT_FILE);
  const bytes = await readFile(file);
  const valuesStart = 16 + bytes.readUInt32LE(12);
  const at = valuesStart + Math.floor(((await stat(file)).size - 12 - valuesStart) / 2);
  const handle = await open(file, 'r+');
  await handle.write(Buffer.from([bytes[at]! ^ 0x10]), 0, 1, at);
  await handle.close();
}

// Dropout, augmentation and a stop inside a phase with momentum: every piece of state a checkpoint carries.
const ir = (() => {
  const base = tinyIR({ epochs: [2, 3], dropout: 0.25, examples: 120, holdout: 30 });
  base.data.augment = [{ type: 'flip' }, { type: 'crop', pad: 1 }];
  return base;
})();

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`a resume on ${backend} reads into the network's own tensors`, () => {
    beforeAll(async () => {
      await selectBackend({ force: backend });
    });

    it('reaches the weights and metrics of an uninterrupted run, bit for bit, in many small chunks', async () => {
      expect(tf.getBackend()).toBe(backend);
      const whole = await newRun(`${backend}-whole`, ir);
      await runSession({ ir, dir: whole, seed: 3 });
      for (const [stop, chunkBytes] of [[2, 64], [3, 4]] as const) {
        // After epoch 2: at the phase boundary (no optimizer slots); after 3: inside p2, momentum slots in the file.
        const interrupted = await newRun(`${backend}-interrupted-${stop}`, ir);
        await runSession({ ir, dir: interrupted, seed: 3, maxEpochs: stop, checkpoint: { chunkBytes } });
        const header = await readCheckpointHeader(interrupted);
        const slots = header.tensors.filter((t) => t.kind === 'slot');
        expect(slots.length > 0).toBe(stop === 3);
        const allocate = vi.spyOn(valueMemory, 'allocate');
        const result = await runSession({ ir, dir: interrupted, seed: 3, resume: header, checkpoint: { chunkBytes } });
        // No array for any parameter or slot: the slots are read into the optimizer the resumed phase trains with.
        expect(allocate).not.toHaveBeenCalled();
        allocate.mockRestore();
        expect(result.finished).toBe(true);
        expect(comparable(await readMetrics(interrupted))).toEqual(comparable(await readMetrics(whole)));
        expect(await checkpointBits(interrupted)).toEqual(await checkpointBits(whole));
      }
    });

    it('holds exactly the file\'s values afterwards, every parameter and optimizer slot read in place, the trainer at the checkpoint\'s position', async () => {
      const dir = await newRun(`${backend}-direct`, ir);
      await runSession({ ir, dir, seed: 3, maxEpochs: 3 });
      const { data, network } = await setUpRun(ir, { seed: 4 }); // another seed: every weight must come from the file
      try {
        expect(network.paramSpecs().every((spec) => tensorDestination(network.variable(spec.name)) !== undefined)).toBe(true);
        const before = await networkBits(network);
        const trainer = new Trainer({ network, data, seed: 4 });
        const allocate = vi.spyOn(valueMemory, 'allocate');
        const made = vi.spyOn(trainer, 'optimizerForResume');
        expect(await restoreCheckpointFile(network, trainer, dir, { force: false, file: CHECKPOINT_FILE }, { chunkBytes: 12 })).toEqual([]);
        expect(allocate).not.toHaveBeenCalled();
        allocate.mockRestore();
        // The slots the resumed phase will train with hold the file's slots, bit for bit.
        const slots = made.mock.results[0]!.value as Map<string, tf.Variable>;
        const saved = (await readCheckpoint(dir)).state.optimizer!.slots;
        expect(saved.length).toBeGreaterThan(0);
        expect([...slots.keys()].sort()).toEqual(saved.map((slot) => slot.name).sort());
        for (const slot of saved) expect(bits((await slots.get(slot.name)!.data()) as Float32Array)).toEqual(bits(slot.values));
        const after = await networkBits(network);
        expect(after).toEqual(await checkpointBits(dir));
        expect(after).not.toEqual(before);
        expect(trainer.stateForCheckpoint().state).toMatchObject({ phaseIndex: 1, nextEpoch: 1 });
      } finally {
        network.dispose();
      }
    });

    it('--init-from reads the weights that fit into the network in place, and says why the others were skipped', async () => {
      const dir = await newRun(`${backend}-init-source`, ir);
      await runSession({ ir, dir, seed: 3, maxEpochs: 3 }); // slots in the file: checked, not kept
      const file = await checkpointBits(dir);
      const same = await setUpRun(ir, { seed: 4 });
      try {
        const allocate = vi.spyOn(valueMemory, 'allocate');
        const result = await loadWeightsFile(same.network, dir, { chunkBytes: 20 });
        expect(allocate).not.toHaveBeenCalled();
        expect(result.skipped).toEqual([]);
        expect(result.loaded.sort()).toEqual(Object.keys(file).sort());
        expect(await networkBits(same.network)).toEqual(file);
      } finally {
        same.network.dispose();
      }
      // A wider plan: only the biases of the heads keep their shapes ([classes]).
      const wider = tinyIR({ epochs: [2, 3], filters: 5, examples: 120, holdout: 30 });
      const target = await newRun(`${backend}-init-target`, wider);
      const allocate = vi.spyOn(valueMemory, 'allocate');
      const tensors = tf.memory().numTensors;
      const result = await runSession({ ir: wider, dir: target, seed: 4, initFrom: dir, maxEpochs: 1 });
      expect(result.initialized?.loaded.sort()).toEqual(['out.bias', 'p1.head/dense.bias']);
      expect(result.initialized?.skipped.find((s) => s.name === 'c1.kernel')?.reason).toMatch(/shape \[3,3,1,4\] differs from \[3,3,1,5\]/);
      // New arrays only for the weights that do not fit (read to say why, then dropped).
      expect(allocate).toHaveBeenCalledTimes(result.initialized!.skipped.length);
      expect(tf.memory().numTensors).toBe(tensors);
    });

    it('a checkpoint is saved from the backend\'s own memory: no tensor is read back, and the file holds every value', async () => {
      const dir = await newRun(`${backend}-save`, ir);
      const { data, network } = await setUpRun(ir, { seed: 3 });
      let epochs = 0;
      const trainer = new Trainer({
        network,
        data,
        seed: 3,
        hooks: {
          onEpoch: async (_metrics, t) => {
            if (++epochs < 3) return undefined; // inside p2: momentum slots to save
            const reads = [vi.spyOn(tf.Tensor.prototype, 'data'), vi.spyOn(tf.Tensor.prototype, 'dataSync')];
            await saveCheckpoint(dir, { planHash: 'test', metricsBytes: 0, network, trainer: t }, { chunkBytes: 36 });
            for (const read of reads) expect(read).not.toHaveBeenCalled();
            vi.restoreAllMocks();
            const saved = await readCheckpoint(dir);
            expect(Object.fromEntries(saved.weights.map((w) => [w.name, bits(w.values)]))).toEqual(await networkBits(network));
            const slots = t.stateForCheckpoint().slots;
            expect(slots.length).toBeGreaterThan(0);
            const savedSlots = new Map(saved.state.optimizer!.slots.map((slot) => [slot.name, bits(slot.values)]));
            for (const slot of slots) expect(savedSlots.get(slot.name)).toEqual(bits(await slot.values()));
            return 'stop';
          },
        },
      });
      try {
        await trainer.run();
        expect(epochs).toBe(3);
      } finally {
        trainer.release();
        network.dispose();
      }
    });

    it('refuses a checkpoint of another plan before writing any parameter', async () => {
      const dir = await newRun(`${backend}-misfit`, ir);
      await runSession({ ir, dir, seed: 3, maxEpochs: 1 });
      const wider = tinyIR({ epochs: [2, 3], filters: 5, examples: 120, holdout: 30 });
      const { data, network } = await setUpRun(wider, { seed: 4 });
      try {
        const before = await networkBits(network);
        const trainer = new Trainer({ network, data, seed: 4 });
        await expect(restoreCheckpointFile(network, trainer, dir, { force: false, file: CHECKPOINT_FILE })).rejects.toThrow(/does not fit the plan .*c1\.kernel has shape \[3,3,1,4\] in the checkpoint, \[3,3,1,5\] in the plan/);
        expect(await networkBits(network)).toEqual(before);
      } finally {
        network.dispose();
      }
    });

    it('a damaged file: a RuntimeFailure naming it, and the session ends without training, rewinding or checkpointing', async () => {
      const dir = await newRun(`${backend}-damaged`, ir);
      await runSession({ ir, dir, seed: 3, maxEpochs: 3 });
      await damage(dir);
      const [checkpoint, metrics] = [await readFile(path.join(dir, CHECKPOINT_FILE)), await readFile(path.join(dir, 'metrics.jsonl'))];
      const tensors = tf.memory().numTensors;
      const resumed = runSession({ ir, dir, seed: 3, resume: await readCheckpointHeader(dir), checkpoint: { chunkBytes: 256 } });
      await expect(resumed).rejects.toThrow(RuntimeFailure);
      await expect(resumed).rejects.toThrow(`${path.join(dir, CHECKPOINT_FILE)} is not a readable mono checkpoint: the file does not match its checksum (damaged)`);
      // The network that holds part of the damaged values is gone; nothing in the folder changed.
      expect(tf.memory().numTensors).toBe(tensors);
      expect(await readFile(path.join(dir, CHECKPOINT_FILE))).toEqual(checkpoint);
      expect(await readFile(path.join(dir, 'metrics.jsonl'))).toEqual(metrics);
    });
  });
}

describe('tensorDestination', () => {
  it('is none for a tensor whose memory another tensor shares (writing it would change both)', async () => {
    await selectBackend({ force: 'cpu' });
    const a = tf.tensor1d([1, 2, 3]);
    expect(tensorDestination(a)).toBeDefined();
    const b = a.reshape([3, 1]); // shares a's data on cpu
    expect(tensorDestination(a)).toBeUndefined();
    b.dispose();
    expect(tensorDestination(a)?.length).toBe(3);
    const integers = tf.tensor1d([1], 'int32');
    expect(tensorDestination(integers)).toBeUndefined();
    integers.dispose();
    expect(() => tensorDestination(a)!.bytes(8, 8)).toThrow(RangeError);
    // A writer may read memory another tensor shares.
    const c = a.reshape([1, 3]);
    expect(tensorDestination(a)).toBeUndefined();
    expect(Array.from(new Float32Array(tensorSource(a)!.bytes(0, 12).slice().buffer))).toEqual([1, 2, 3]);
    c.dispose();
    a.dispose();
  });
});
