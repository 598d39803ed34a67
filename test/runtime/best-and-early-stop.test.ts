/**
 * best.bin (the run's best epoch by the plan's `best` metric, on the network's own
 * output) and `stop early(...)`: what they keep, what they restore, and that a run
 * resumed in the middle of either continues exactly as an uninterrupted one.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IR } from '../../src/ir/types.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { BEST_CHECKPOINT_FILE, readCheckpoint } from '../../src/runtime/checkpoint.js';
import { loadDataFor } from '../../src/runtime/data/dataset.js';
import { Network, type NamedWeights } from '../../src/runtime/graph.js';
import { createRunFolder, readMetrics } from '../../src/runtime/run-folder.js';
import { runSession } from '../../src/runtime/session.js';
import { evaluate, ownHeadGraph } from '../../src/runtime/step.js';
import { improves, runRngs, type EpochMetrics } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';

let root: string;
beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-best-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function newRun(name: string, ir: IR): Promise<string> {
  const dir = path.join(root, name);
  await createRunFolder(dir, { source: 'plan tiny\n', ir, info: { plan: 'tiny', planFile: 'tiny.mono', seed: 3, set: {}, backend: 'cpu', startedAt: '' } });
  return dir;
}

const comparable = (metrics: EpochMetrics[]) => metrics.map(({ seconds: _s, examples_per_s: _e, ...rest }) => rest);
const byName = (weights: readonly NamedWeights[]) => new Map(weights.map((w) => [w.name, Array.from(w.values)]));

/**
 * p1 stops early: `min_delta: 1` no accuracy can beat, so its second epoch stalls and,
 * with patience 1, ends the phase (of 4 epochs) with its first epoch's weights back.
 * best.bin follows the hold-out loss of the network's own output (p2 and the fine-tune).
 */
function plan(): IR {
  const ir = tinyIR({ epochs: [4, 2], finetune: 2, examples: 150, holdout: 40 });
  ir.phases[0]!.earlyStop = { monitor: 'val_acc', patience: 1, minDelta: 1, restore: true };
  ir.best = { metric: 'val_loss' };
  return ir;
}

describe('best.bin and stop early', () => {
  it('improves follows the metric: lower val_loss, higher val_acc, by more than min_delta', () => {
    expect(improves('val_loss', 0.5, 0.6, 0)).toBe(true);
    expect(improves('val_loss', 0.55, 0.6, 0.1)).toBe(false);
    expect(improves('val_acc', 0.7, 0.6, 0)).toBe(true);
    expect(improves('val_acc', 0.6, 0.6, 0)).toBe(false);
  });

  it('a phase stops after `patience` epochs without improvement, restores its best epoch, and best.bin holds the best network epoch', async () => {
    const ir = plan();
    const dir = await newRun('whole', ir);
    await runSession({ ir, dir, seed: 3 });
    const metrics = await readMetrics(dir);
    expect(metrics.map((m) => `${m.phase}/${m.epoch}`)).toEqual(['p1/1', 'p1/2', 'p2/1', 'p2/2', 'finetune/1', 'finetune/2']);
    expect(metrics[1]!.early_stop).toEqual({ stopped: true, best_epoch: 1, restored: true });

    // best: true on exactly the network-output epochs that lowered the hold-out loss so far.
    let lowest = Infinity;
    const expected = metrics.map((m) => {
      if (m.head !== 'network' || !(m.val_loss! < lowest)) return false;
      lowest = m.val_loss!;
      return true;
    });
    expect(metrics.map((m) => m.best === true)).toEqual(expected);
    const bestLine = metrics.filter((m) => m.best).at(-1)!;

    // best.bin holds that epoch: its header says so, and its weights give that hold-out loss again.
    const best = await readCheckpoint(dir, { file: BEST_CHECKPOINT_FILE });
    expect(best.state.best).toEqual({ metric: 'val_loss', value: bestLine.val_loss, phase: bestLine.phase, epoch: bestLine.epoch });
    expect(best.state.optimizer).toBeNull();
    expect(best.normalization?.mean).toHaveLength(1);
    const data = await loadDataFor(ir);
    expect(best.normalization).toEqual({ mean: data.mean, std: data.std });
    const network = new Network(ir, runRngs(99).init);
    try {
      network.setWeights(best.weights);
      const again = await evaluate(network, ownHeadGraph(network, 'p2')!, data.holdout, 500);
      expect(again.loss).toBeCloseTo(bestLine.val_loss!, 5);
      expect(again.acc).toBe(bestLine.val_acc);
    } finally {
      network.dispose();
    }
  });

  it('resumed mid-phase (the watch and the best weights in the checkpoint), a run ends exactly as the uninterrupted one', async () => {
    const ir = plan();
    const whole = await newRun('reference', ir);
    await runSession({ ir, dir: whole, seed: 3 });

    const dir = await newRun('interrupted', ir);
    await runSession({ ir, dir, seed: 3, maxEpochs: 1 });
    const afterFirst = await readCheckpoint(dir);
    // Mid-phase with restore: the watch and a copy of p1's parameters (its head's included).
    expect(afterFirst.state.earlyStop).toMatchObject({ bestEpoch: 0, stalled: 0 });
    const kept = afterFirst.state.earlyStop!.weights!.map((w) => w.name).sort();
    expect(kept).toEqual(ir.parameters.filter((p) => p.partition === 'p1').map((p) => p.name).sort());
    await expect(access(path.join(dir, BEST_CHECKPOINT_FILE))).rejects.toThrow(); // no network-output epoch yet

    // Resume after p1 stopped (the restore happened) and again in the middle of the fine-tune.
    await runSession({ ir, dir, seed: 3, maxEpochs: 1, resume: afterFirst });
    const atBoundary = await readCheckpoint(dir);
    expect(atBoundary.state).toMatchObject({ phaseIndex: 1, nextEpoch: 0 });
    expect(atBoundary.state.earlyStop ?? null).toBeNull();
    const p1After = byName(atBoundary.weights.filter((w) => w.name.startsWith('c1') || w.name.startsWith('bn1') || w.name.startsWith('p1.head')));
    expect(p1After).toEqual(byName(afterFirst.weights.filter((w) => p1After.has(w.name))));
    await runSession({ ir, dir, seed: 3, maxEpochs: 3, resume: atBoundary });
    await runSession({ ir, dir, seed: 3, resume: await readCheckpoint(dir) });

    expect(comparable(await readMetrics(dir))).toEqual(comparable(await readMetrics(whole)));
    expect(byName((await readCheckpoint(dir)).weights)).toEqual(byName((await readCheckpoint(whole)).weights));
    const [bestA, bestB] = await Promise.all([readCheckpoint(dir, { file: BEST_CHECKPOINT_FILE }), readCheckpoint(whole, { file: BEST_CHECKPOINT_FILE })]);
    expect(bestA.state.best).toEqual(bestB.state.best);
    expect(byName(bestA.weights)).toEqual(byName(bestB.weights));
  });

  it('without stop early every epoch runs; without hold-out data no best.bin is written', async () => {
    const ir = tinyIR({ epochs: [1, 1], examples: 60, holdout: 0 });
    const dir = await newRun('no-holdout', ir);
    await runSession({ ir, dir, seed: 3 });
    expect((await readMetrics(dir)).map((m) => [m.phase, m.best, m.early_stop])).toEqual([
      ['p1', undefined, undefined],
      ['p2', undefined, undefined],
    ]);
    await expect(access(path.join(dir, BEST_CHECKPOINT_FILE))).rejects.toThrow();
  });
});
