import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IR } from '../../src/ir/types.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { checkpointToSave, planHash, readCheckpoint, readCheckpointHeader, writeCheckpoint } from '../../src/runtime/checkpoint.js';
import { Network } from '../../src/runtime/graph.js';
import { createRunFolder, readMetrics } from '../../src/runtime/run-folder.js';
import { NonFiniteStateError, RuntimeFailure } from '../../src/runtime/errors.js';
import { recordLrBounds, runSession, type CheckpointProgress } from '../../src/runtime/session.js';
import { runRngs, Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';

let root: string;
beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-session-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function newRun(name: string, ir: IR): Promise<string> {
  const dir = path.join(root, name);
  await createRunFolder(dir, { source: 'plan tiny\n', ir, info: { plan: 'tiny', planFile: 'tiny.mono', seed: 3, set: {}, backend: 'cpu', startedAt: '' } });
  return dir;
}

/** Everything but wall-clock timings. */
const comparable = (metrics: EpochMetrics[]) => metrics.map(({ seconds: _s, examples_per_s: _e, ...rest }) => rest);

describe('run sessions', () => {
  // Dropout, augmentation and a mid-phase stop exercise every piece of state a checkpoint carries.
  const ir = (() => {
    const base = tinyIR({ epochs: [2, 3], dropout: 0.25, examples: 120, holdout: 30, lr: { type: 'plateau', factor: 0.5, patience: 0, threshold: 0.5, min: 0.001 } });
    base.data.augment = [{ type: 'flip' }, { type: 'crop', pad: 1 }];
    return base;
  })();

  it('writes metrics.jsonl and a checkpoint after every epoch', async () => {
    const dir = await newRun('plain', ir);
    // Chunks of 64 bytes: every tensor is written in several pieces.
    const result = await runSession({ ir, dir, seed: 3, maxEpochs: 2, checkpoint: { chunkBytes: 64 } });
    expect(result).toMatchObject({ epochs: 2, finished: false });
    const metrics = await readMetrics(dir);
    expect(metrics.map((m) => [m.phase, m.epoch])).toEqual([['p1', 1], ['p1', 2]]);
    const checkpoint = await readCheckpoint(dir);
    expect(checkpoint.planHash).toBe(planHash(ir));
    expect(checkpoint.state).toMatchObject({ phaseIndex: 1, nextEpoch: 0, optimizer: null });
    expect(checkpoint.metricsBytes).toBe((await readFile(path.join(dir, 'metrics.jsonl'))).length);
    // The previous checkpoint, kept to be overwritten by the next write, goes when the session ends.
    expect((await readdir(dir)).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  it('resumed after an interruption, gives the same metrics as an uninterrupted run', async () => {
    const whole = await newRun('whole', ir);
    await runSession({ ir, dir: whole, seed: 3 });
    const interrupted = await newRun('interrupted', ir);
    await runSession({ ir, dir: interrupted, seed: 3, maxEpochs: 3 }); // stops inside phase p2
    const checkpoint = await readCheckpoint(interrupted);
    expect(checkpoint.state.phaseIndex).toBe(1);
    expect(checkpoint.state.nextEpoch).toBe(1);
    expect(checkpoint.state.optimizer?.slots.length).toBeGreaterThan(0);
    // A line written after the checkpoint (killed before the checkpoint landed) must go.
    const { appendFile } = await import('node:fs/promises');
    await appendFile(path.join(interrupted, 'metrics.jsonl'), '{"phase":"p2","epoch":2}\n');
    const result = await runSession({ ir, dir: interrupted, seed: 3, resume: checkpoint });
    expect(result.finished).toBe(true);
    const expected = comparable(await readMetrics(whole));
    expect(expected).toHaveLength(5);
    expect(comparable(await readMetrics(interrupted))).toEqual(expected);
  });

  it('resumes an rmsprop phase (mean square and momentum buffer in the checkpoint) to the same metrics', async () => {
    const rmsprop = tinyIR({ epochs: [1, 3], examples: 120, holdout: 30, optimizer: { type: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, momentum: 0.5, weightDecay: 1e-4 } });
    const whole = await newRun('rmsprop-whole', rmsprop);
    await runSession({ ir: rmsprop, dir: whole, seed: 3 });
    const interrupted = await newRun('rmsprop-interrupted', rmsprop);
    await runSession({ ir: rmsprop, dir: interrupted, seed: 3, maxEpochs: 2 });
    const checkpoint = await readCheckpoint(interrupted);
    expect(checkpoint.state.optimizer?.type).toBe('rmsprop');
    expect(new Set(checkpoint.state.optimizer?.slots.map((slot) => slot.name.split('/').pop()))).toEqual(new Set(['first', 'second']));
    await runSession({ ir: rmsprop, dir: interrupted, seed: 3, resume: checkpoint });
    expect(comparable(await readMetrics(interrupted))).toEqual(comparable(await readMetrics(whole)));
  });

  it('reports the progress of large checkpoints as they are saved, read on resume and read by --init-from', async () => {
    const events: CheckpointProgress[] = [];
    const onCheckpointProgress = (p: CheckpointProgress) => void events.push(p);
    const last = () => {
      const byFile = new Map<string, CheckpointProgress>();
      for (const e of events) byFile.set(`${e.action} ${e.file}`, e);
      events.length = 0;
      // best.bin is saved too when the epoch is the best so far: not part of what is checked here.
      return [...byFile.values()].filter((e) => path.basename(e.file) !== 'best.bin').map(({ file, action, done, total }) => ({ file, action, complete: done === total }));
    };
    const dir = await newRun('progress', ir);
    // Small files report nothing (the default threshold)...
    await runSession({ ir, dir, seed: 3, maxEpochs: 1, onCheckpointProgress });
    expect(events).toEqual([]);
    // ...larger ones do; this tiny run's files count as large here.
    const checkpoint = { progressMinBytes: 0, chunkBytes: 64 };
    await runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir), maxEpochs: 1, checkpoint, onCheckpointProgress });
    expect(last()).toEqual([{ file: path.join(dir, 'checkpoint.bin'), action: 'saving', complete: true }]);
    await runSession({ ir, dir, seed: 3, resume: await readCheckpointHeader(dir), maxEpochs: 1, checkpoint, onCheckpointProgress });
    expect(last()).toEqual([
      { file: path.join(dir, 'checkpoint.bin'), action: 'reading', complete: true },
      { file: path.join(dir, 'checkpoint.bin'), action: 'saving', complete: true },
    ]);
    const target = await newRun('progress-init', ir);
    await runSession({ ir, dir: target, seed: 3, initFrom: dir, maxEpochs: 1, checkpoint, onCheckpointProgress });
    expect(last()).toEqual([
      { file: path.join(dir, 'checkpoint.bin'), action: 'reading', complete: true },
      { file: path.join(target, 'checkpoint.bin'), action: 'saving', complete: true },
    ]);
  });

  it('--init-from loads matching weights only and reports the rest', async () => {
    const dir = await newRun('source', ir);
    await runSession({ ir, dir, seed: 3, maxEpochs: 1 });
    const { weights } = await readCheckpoint(dir);
    const wider = tinyIR({ epochs: [1, 1], filters: 5, examples: 120, holdout: 30 });
    const target = await newRun('target', wider);
    const result = await runSession({ ir: wider, dir: target, seed: 4, initFrom: weights, maxEpochs: 1 });
    // Only the head's bias keeps its shape ([classes]) when the filter count changes.
    expect(result.initialized?.loaded).toEqual(['p1.head/dense.bias', 'out.bias']);
    expect(result.initialized?.skipped.find((s) => s.name === 'c1.kernel')?.reason).toMatch(/shape \[3,3,1,4\] differs from \[3,3,1,5\]/);
  });

  it('resumed inside MI-driven, lr_find and layer-wise phases, continues their schedules exactly', async () => {
    const mi = tinyIR({ epochs: [2, 2], finetune: 2, examples: 120, holdout: 30, lr: { type: 'mi', max: 0.1, min: 0.001, threshold: 0.05, start: null, boundsFrom: 'plan' } });
    mi.phases[1]!.lr = { type: 'mi', max: 0, min: 0, threshold: 0.05, start: null, boundsFrom: 'lr_find' };
    mi.phases[2]!.lr = { type: 'layerwise', by: 'mi', max: 0.05, min: 0.001, threshold: 0.05 };
    const lrFind = { steps: 20 };
    const whole = await newRun('mi-whole', mi);
    await runSession({ ir: mi, dir: whole, seed: 3, lrFind });
    const interrupted = await newRun('mi-interrupted', mi);
    const sources: string[] = [];
    const onLrBounds = (e: { source: string }) => void sources.push(e.source);
    // Stops after p1 epoch 1 (mi state), then inside p2 (lr_find bounds), then inside finetune (groups).
    for (const maxEpochs of [1, 2, 2]) {
      const checkpoint = maxEpochs === 1 ? undefined : await readCheckpoint(interrupted);
      await runSession({ ir: mi, dir: interrupted, seed: 3, lrFind, maxEpochs, onLrBounds, ...(checkpoint ? { resume: checkpoint } : {}) });
    }
    const checkpoint = await readCheckpoint(interrupted);
    expect(checkpoint.state).toMatchObject({ phaseIndex: 2, nextEpoch: 1 });
    expect(Object.keys((checkpoint.state.schedules?.groups ?? {}) as object)).toEqual(['p1', 'p2']);
    await runSession({ ir: mi, dir: interrupted, seed: 3, lrFind, resume: checkpoint, onLrBounds });
    // The sweep ran once; the resumed p2 took its bounds from the checkpoint.
    expect(sources).toEqual(['lr-find', 'checkpoint']);
    const expected = comparable(await readMetrics(whole));
    expect(expected).toHaveLength(6);
    expect(comparable(await readMetrics(interrupted))).toEqual(expected);
    expect(expected.every((m) => m.mi !== null)).toBe(true);
    const bounds = JSON.parse(await readFile(path.join(interrupted, 'lr-bounds.json'), 'utf8')) as Record<string, { min: number; max: number; source: string }>;
    expect(bounds['p2']).toMatchObject({ source: 'lr-find', ...expected[2]!.lr_bounds });
    expect((await readFile(path.join(interrupted, 'lr-find-p2.csv'), 'utf8')).split('\n')[0]).toBe('lr,loss,smoothed_loss');
  });
});

describe('resuming a checkpoint that does not fit the plan', () => {
  const ir = tinyIR({ epochs: [1, 2], examples: 60, holdout: 20 });

  it('is refused, naming the renamed, reshaped or missing tensors; --force loads what fits', async () => {
    const dir = await newRun('misfit', ir);
    await runSession({ ir, dir, seed: 3, maxEpochs: 2 }); // inside p2: msgd slots for p2's parameters
    const checkpoint = await readCheckpoint(dir);
    // Written by a checkpoint writer with a valid checksum: only the check against the plan can tell.
    const renamed = { ...checkpoint, weights: checkpoint.weights.map((w) => (w.name === 'c2.kernel' ? { ...w, name: 'c2.kernel_renamed' } : w)) };
    await writeCheckpoint(dir, checkpointToSave(renamed));
    const refused = runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir) });
    await expect(refused).rejects.toThrow(RuntimeFailure);
    await expect(runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir) })).rejects.toThrow(
      `${path.join(dir, 'checkpoint.bin')} does not fit the plan tiny: weight c2.kernel is missing from the checkpoint; weight c2.kernel_renamed is not in the plan (pass --force to load what fits)`,
    );
    const slots = checkpoint.state.optimizer!.slots;
    const reshaped = { ...checkpoint, state: { ...checkpoint.state, optimizer: { ...checkpoint.state.optimizer!, slots: slots.map((s) => (s.name === 'out.bias/first' ? { ...s, shape: [1, 3] } : s)).filter((s) => s.name !== 'c2.kernel/first') } } };
    await writeCheckpoint(dir, checkpointToSave(reshaped));
    await expect(runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir) })).rejects.toThrow(
      /slot c2\.kernel\/first is missing from the checkpoint; slot out\.bias\/first has shape \[1,3\] in the checkpoint, \[3\] in the plan/,
    );
    const past = { ...checkpoint, state: { ...checkpoint.state, nextEpoch: 5 } };
    await writeCheckpoint(dir, checkpointToSave(past));
    await expect(runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir) })).rejects.toThrow(/it is at epoch 6 of phase p2, which has 2/);

    await writeCheckpoint(dir, checkpointToSave(renamed));
    const forced = await runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir), force: true });
    expect(forced.finished).toBe(true);
    expect(forced.mismatches).toEqual(['weight c2.kernel is missing from the checkpoint', 'weight c2.kernel_renamed is not in the plan']);
  });
});

describe('non-finite state', () => {
  it('a BatchNorm statistic that became infinite stops the epoch before it is recorded, naming it', async () => {
    const ir = tinyIR({ epochs: [1, 1], examples: 60, holdout: 20 });
    const network = new Network(ir, runRngs(3).init);
    const { loadData } = await import('../../src/runtime/data/dataset.js');
    const data = await loadData(ir.data);
    // Inference-mode BatchNorm divides by sqrt(inf): the hold-out loss stays finite, the statistic does not.
    const fill = (name: string, value: number) => {
      const shape = network.variable(name).shape;
      network.setWeights([{ name, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value) }]);
    };
    fill('bn1.moving_variance', Infinity);
    const recorded: unknown[] = [];
    const trainer = new Trainer({ network, data, seed: 3, hooks: { onEpoch: (m) => void recorded.push(m) } });
    const failure = await trainer.run().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(NonFiniteStateError);
    expect((failure as Error).message).toBe('BatchNorm statistic bn1.moving_variance is no longer finite after phase p1, epoch 1 (is the learning rate too high?)');
    expect(recorded).toEqual([]);
    fill('bn1.moving_variance', 1);
    fill('c1.kernel', NaN);
    // A NaN kernel makes the training loss NaN first: that has its own error, at the step.
    await expect(new Trainer({ network, data, seed: 3 }).run()).rejects.toThrow(/loss became NaN in phase p1, epoch 1, step 1/);
    network.dispose();
  });
});

describe('lr-bounds.json', () => {
  it('adds phases to the file, replacing it whole, and leaves no temporary file', async () => {
    const dir = path.join(root, 'bounds-ok');
    await mkdir(dir, { recursive: true });
    await recordLrBounds(dir, { phase: 'p1', bounds: { min: 0.001, max: 0.1 }, source: 'given' });
    await recordLrBounds(dir, { phase: 'p2', bounds: { min: 0.002, max: 0.2 }, source: 'lr-find' });
    expect(JSON.parse(await readFile(path.join(dir, 'lr-bounds.json'), 'utf8'))).toEqual({
      p1: { min: 0.001, max: 0.1, source: 'given' },
      p2: { min: 0.002, max: 0.2, source: 'lr-find' },
    });
    expect(await readdir(dir)).toEqual(['lr-bounds.json']);
  });

  it('reports a damaged file as a RuntimeFailure naming it, and leaves it as it was', async () => {
    const dir = path.join(root, 'bounds-damaged');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'lr-bounds.json');
    await writeFile(file, '{"p1": {"min": 0.0');
    const event = { phase: 'p2', bounds: { min: 0.002, max: 0.2 }, source: 'lr-find' } as const;
    await expect(recordLrBounds(dir, event)).rejects.toThrow(RuntimeFailure);
    await expect(recordLrBounds(dir, event)).rejects.toThrow(/lr-bounds\.json is damaged \(not JSON/);
    expect(await readFile(file, 'utf8')).toBe('{"p1": {"min": 0.0');
    await writeFile(file, '[]');
    await expect(recordLrBounds(dir, event)).rejects.toThrow(/not a JSON object/);
  });
});
