/**
 * Checkpoints at scale (`npm run test:scale`; minutes, about 16 GB of memory): one
 * training step of a plan with 600M parameters (one dense layer, cpu backend) is
 * checkpointed with its momentum slots (4.8 GB: more than a Buffer or one read call
 * can hold, one tensor larger than 2 GiB), then read back and loaded into a new
 * network, and read as a resume does, straight into a third network's tensors and its
 * trainer's optimizer slots; every value must come back bit for bit.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { CHECKPOINT_FILE, planHash, readCheckpoint, type Checkpoint } from '../../src/runtime/checkpoint.js';
import type { LoadedData } from '../../src/runtime/data/dataset.js';
import { Network } from '../../src/runtime/graph.js';
import { appendMetrics, resetMetrics } from '../../src/runtime/run-folder.js';
import { restoreCheckpoint, restoreCheckpointFile } from '../../src/runtime/load-checkpoint.js';
import { saveCheckpoint } from '../../src/runtime/session.js';
import { runRngs, Trainer } from '../../src/runtime/trainer.js';

const [H, W, CLASSES] = [600, 1000, 1000]; // 600,000 inputs x 1,000 outputs = 600M weights
const PLAN = `plan scale
data synthetic(examples: 1, classes: ${CLASSES}, shape: [${H}, ${W}, 1], noise: 0.1) {
  batch 1
  holdout 0
  seed 1
}
network input [${H}, ${W}, 1] { out: flatten dense(${CLASSES}) }
partition all = out
schedule { train all for 2 epochs with msgd(lr: 0.01, momentum: 0.9, decay: 0) }
`;

/** sha256 of a tensor's bytes, in slices (one hash update of several GB is not portable). */
function digest(values: Float32Array): string {
  const hash = createHash('sha256');
  const slice = 1 << 28;
  for (let start = 0; start < values.byteLength; start += slice) {
    hash.update(new Uint8Array(values.buffer, values.byteOffset + start, Math.min(slice, values.byteLength - start)));
  }
  return hash.digest('hex');
}

let dir: string;
beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'mono-scale-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkpoints of a 600M-parameter plan', () => {
  it('are written with momentum slots (> 4.5 GB), read back and resumed bit for bit', async () => {
    const compiled = compilePlan(PLAN, 'scale.mono');
    const ir = compiled.ir!;
    expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const params = ir.parameters.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(params).toBeGreaterThanOrEqual(600_000_000);

    const shape: [number, number, number] = [H, W, 1];
    const images = new Float32Array(H * W).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const empty = { images: new Float32Array(0), labels: new Int32Array(0), count: 0, shape };
    const data: LoadedData = { name: 'scale', origin: 'synthetic data', classes: CLASSES, train: { images, labels: new Int32Array([7]), count: 1, shape }, holdout: empty, mean: [0], std: [1] };

    const saved = new Map<string, string>();
    let network = new Network(ir, runRngs(1).init);
    await resetMetrics(dir);
    const trainer = new Trainer({
      network,
      data,
      seed: 1,
      hooks: {
        onEpoch: async (metrics, t) => {
          const metricsBytes = await appendMetrics(dir, metrics);
          await saveCheckpoint(dir, { planHash: planHash(ir), metricsBytes, network, trainer: t });
          for (const spec of network.paramSpecs()) saved.set(`weight ${spec.name}`, digest(network.variable(spec.name).dataSync() as Float32Array));
          for (const slot of t.stateForCheckpoint().slots) saved.set(`slot ${slot.name}`, digest(await slot.values()));
          return 'stop' as const;
        },
      },
    });
    await trainer.run();
    network.dispose();
    expect([...saved.keys()].sort()).toEqual(['slot out.dense1.bias/first', 'slot out.dense1.kernel/first', 'weight out.dense1.bias', 'weight out.dense1.kernel']);
    const { size } = await stat(path.join(dir, CHECKPOINT_FILE));
    expect(size).toBeGreaterThan(4.5e9);

    let checkpoint: Checkpoint | null = await readCheckpoint(dir);
    const read = new Map<string, string>();
    for (const w of checkpoint.weights) read.set(`weight ${w.name}`, digest(w.values));
    for (const s of checkpoint.state.optimizer!.slots) read.set(`slot ${s.name}`, digest(s.values));
    expect(read).toEqual(saved);
    // The momentum moved: the slots are not the zeros they started as.
    expect(checkpoint.state.optimizer!.slots.find((s) => s.name === 'out.dense1.kernel/first')!.values.some((v) => v !== 0)).toBe(true);

    network = new Network(ir, runRngs(2).init); // another seed: every weight must come from the checkpoint
    const resumed = new Trainer({ network, data, seed: 1 });
    expect(restoreCheckpoint(network, resumed, checkpoint, { force: false, file: CHECKPOINT_FILE })).toEqual([]);
    for (const spec of network.paramSpecs()) expect(digest(network.variable(spec.name).dataSync() as Float32Array), spec.name).toBe(saved.get(`weight ${spec.name}`));
    network.dispose();
    checkpoint = null; // 4.8 GB of arrays: gone before the next network

    // What `mono run --resume` does: the parameters read straight into a new network's own
    // tensors (one of 2.4 GB, past 2 GiB offsets), the slots into the optimizer the phase will use.
    network = new Network(ir, runRngs(3).init);
    const inPlace = new Trainer({ network, data, seed: 1 });
    const made = vi.spyOn(inPlace, 'optimizerForResume');
    expect(await restoreCheckpointFile(network, inPlace, dir, { force: false, file: CHECKPOINT_FILE })).toEqual([]);
    for (const spec of network.paramSpecs()) expect(digest(network.variable(spec.name).dataSync() as Float32Array), `in place: ${spec.name}`).toBe(saved.get(`weight ${spec.name}`));
    const slots = made.mock.results[0]!.value as Map<string, tf.Variable>;
    expect([...slots.keys()].sort()).toEqual(['out.dense1.bias/first', 'out.dense1.kernel/first']);
    for (const [name, slot] of slots) expect(digest(slot.dataSync() as Float32Array), `in place: ${name}`).toBe(saved.get(`slot ${name}`));
    inPlace.release();
    network.dispose();
  });
});
