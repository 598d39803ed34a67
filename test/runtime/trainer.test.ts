import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IR, PhaseSpec } from '../../src/ir/types.js';
import { prefixCachePlan } from '../../src/summary/prefix-cache.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { loadData, type LoadedData } from '../../src/runtime/data/dataset.js';
import { NonFiniteLossError } from '../../src/runtime/errors.js';
import { Network } from '../../src/runtime/graph.js';
import { LOSS_READ_EVERY, runRngs, Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

async function setup(ir: IR, seed = 1): Promise<{ network: Network; data: LoadedData }> {
  const data = await loadData(ir.data);
  return { network: new Network(ir, runRngs(seed).init), data };
}

const snapshot = async (network: Network, filter: (name: string) => boolean) =>
  new Map((await network.getWeights()).filter((w) => filter(w.name)).map((w) => [w.name, w.values]));

describe('Trainer', () => {
  it('learns a separable synthetic set partition by partition (> 90% hold-out)', async () => {
    const ir = tinyIR({ epochs: [2, 2], noise: 0.4 });
    const { network, data } = await setup(ir);
    const metrics: EpochMetrics[] = [];
    await new Trainer({ network, data, seed: 1, hooks: { onEpoch: (m) => void metrics.push(m) } }).run();
    expect(metrics.map((m) => `${m.phase}/${m.epoch}`)).toEqual(['p1/1', 'p1/2', 'p2/1', 'p2/2']);
    expect(metrics[0]!.head).toBe('p1.head');
    expect(metrics[2]!.head).toBe('network');
    const final = metrics[metrics.length - 1]!;
    expect(final.val_acc).toBeGreaterThan(0.9);
    expect(final.mi).toBeGreaterThan(0.5);
    for (const m of metrics) {
      for (const key of ['loss', 'acc', 'val_loss', 'val_acc', 'mi', 'lr', 'momentum', 'seconds', 'examples_per_s'] as const) {
        expect(Number.isFinite(m[key])).toBe(true);
      }
    }
    network.dispose();
  });

  it('keeps frozen partitions (weights and BatchNorm statistics) bit-identical while the active one changes', async () => {
    const ir = tinyIR({ epochs: [1, 2] });
    const { network, data } = await setup(ir);
    let p1AfterPhase1: Map<string, Float32Array> | undefined;
    let p2AfterPhase1: Map<string, Float32Array> | undefined;
    const isP1 = (name: string) => name.startsWith('c1') || name.startsWith('bn1');
    const isP2 = (name: string) => name.startsWith('c2') || name.startsWith('bn2') || name.startsWith('out');
    await new Trainer({
      network,
      data,
      seed: 1,
      hooks: {
        onEpoch: async (m) => {
          if (m.phase === 'p1') {
            p1AfterPhase1 = await snapshot(network, isP1);
            p2AfterPhase1 = await snapshot(network, isP2);
          }
        },
      },
    }).run();
    const p1Now = await snapshot(network, isP1);
    expect(p1Now.size).toBe(5);
    for (const [name, values] of p1Now) expect(values, name).toEqual(p1AfterPhase1!.get(name));
    // the active partition's weights and its BatchNorm statistics did change
    for (const name of ['c2.kernel', 'bn2.gamma', 'bn2.moving_mean', 'bn2.moving_variance', 'out.kernel']) {
      expect((await snapshot(network, (n) => n === name)).get(name), name).not.toEqual(p2AfterPhase1!.get(name));
    }
    network.dispose();
  });

  it('keeps the tensor count flat across steps and epochs', async () => {
    const ir = tinyIR({ epochs: [2, 2], dropout: 0.2, shared: true });
    const { network, data } = await setup(ir);
    const counts: number[] = [];
    // Each step's loss and top-1 count (2 scalars) wait on the backend until they are read,
    // every LOSS_READ_EVERY steps and at the epoch's end; beyond those, nothing may grow.
    const unread = (step: number, steps: number): number => (step === steps ? 0 : 2 * (step % LOSS_READ_EVERY));
    await new Trainer({ network, data, seed: 1, hooks: { onBatch: (p) => void counts.push(tf.memory().numTensors - unread(p.step, p.steps)) } }).run();
    const perPhase = counts.length / 2;
    const phase1 = counts.slice(1, perPhase);
    const phase2 = counts.slice(perPhase + 1);
    expect(new Set(phase1).size).toBe(1);
    expect(new Set(phase2).size).toBe(1);
    network.dispose();
  });

  it('leaves no tensors behind across phases, MI-driven and layer-wise lr included', async () => {
    const layerwise = tinyIR({ epochs: [1, 1], finetune: 1, lr: { type: 'layerwise', by: 'mi', max: 0.1, min: 0.001, threshold: 0.01 } });
    const mi = tinyIR({ epochs: [1, 1], lr: { type: 'mi', max: 0.1, min: 0.001, threshold: 0.01, start: null, boundsFrom: 'plan' } });
    for (const ir of [layerwise, mi]) {
      const start = tf.memory().numTensors;
      const { network, data } = await setup(ir);
      const before = tf.memory().numTensors;
      await new Trainer({ network, data, seed: 1 }).run();
      expect(tf.memory().numTensors).toBe(before);
      network.dispose();
      expect(tf.memory().numTensors).toBe(start);
    }
  });

  it('reads the training loss back every LOSS_READ_EVERY steps and at the end of an epoch, not after every step', async () => {
    // 600 - 60 held out = 540 examples: 67 steps of 8.
    const ir = tinyIR({ epochs: [1, 1], examples: 600, batch: 8 });
    const { network, data } = await setup(ir);
    const backend = tf.backend();
    const readSync = backend.readSync.bind(backend);
    const read = backend.read.bind(backend);
    let reads = 0;
    backend.readSync = (dataId) => { reads++; return readSync(dataId); };
    backend.read = (dataId) => { reads++; return read(dataId); };
    const readAfter: number[] = [];
    let seen = 0;
    let steps = 0;
    try {
      await new Trainer({
        network, data, seed: 1,
        hooks: {
          onBatch: (p) => {
            if (p.phase === 'p1' && reads !== seen) readAfter.push(p.step);
            seen = reads;
            steps = p.steps;
          },
          // The hold-out evaluation between epochs reads too.
          onEpoch: () => void (seen = reads),
        },
      }).run();
    } finally {
      backend.readSync = readSync;
      backend.read = read;
    }
    expect(steps).toBe(67);
    expect(LOSS_READ_EVERY).toBeGreaterThan(1);
    const expected = Array.from({ length: 67 }, (_, i) => i + 1).filter((s) => s % LOSS_READ_EVERY === 0 || s === 67);
    expect(readAfter).toEqual(expected);
    network.dispose();
  });

  it('reads every step with lossReadEvery: 1 (the parity check needs each loss) and trains the same', async () => {
    const ir = tinyIR({ epochs: [1, 1], examples: 600, batch: 8 });
    const runs: { losses: number[]; metrics: EpochMetrics[] }[] = [];
    for (const lossReadEvery of [1, undefined]) {
      const { network, data } = await setup(ir);
      const losses: number[] = [];
      const metrics: EpochMetrics[] = [];
      await new Trainer({
        network, data, seed: 1, ...(lossReadEvery ? { lossReadEvery } : {}),
        hooks: { onBatch: (p) => void (p.phase === 'p1' && losses.push(p.loss)), onEpoch: (m) => void metrics.push(m) },
      }).run();
      runs.push({ losses, metrics });
      network.dispose();
    }
    const [everyStep, deferred] = runs;
    expect(everyStep!.losses.every(Number.isFinite)).toBe(true);
    // Deferred: nothing is read before step LOSS_READ_EVERY, and the running means agree where both read.
    expect(deferred!.losses.slice(0, LOSS_READ_EVERY - 1).every(Number.isNaN)).toBe(true);
    expect(deferred!.losses[LOSS_READ_EVERY - 1]).toBeCloseTo(everyStep!.losses[LOSS_READ_EVERY - 1]!, 6);
    expect(everyStep!.metrics.map((m) => [m.loss, m.val_loss])).toEqual(deferred!.metrics.map((m) => [m.loss, m.val_loss]));
  });

  it('trains a phase from its cached frozen prefix exactly as from the prefix recomputed every step', async () => {
    const ir = tinyIR({ epochs: [1, 2], finetune: 1 });
    expect(ir.data.augment).toEqual([]);
    const runs: { metrics: EpochMetrics[]; weights: Map<string, Float32Array> }[] = [];
    for (const cachePrefix of [true, false]) {
      const { network, data } = await setup(ir);
      const metrics: EpochMetrics[] = [];
      await new Trainer({ network, data, seed: 4, cachePrefix, hooks: { onEpoch: (m) => void metrics.push(m) } }).run();
      runs.push({ metrics, weights: await snapshot(network, () => true) });
      network.dispose();
    }
    const [cached, recomputed] = runs as [typeof runs[0], typeof runs[0]];
    const strip = (m: EpochMetrics) => ({ ...m, seconds: 0, examples_per_s: 0 });
    expect(cached.metrics.map(strip)).toEqual(recomputed.metrics.map(strip));
    for (const [name, values] of recomputed.weights) expect(cached.weights.get(name), name).toEqual(values);
  });

  it('caches the frozen prefix only without augmentation and where it fits (dry run and runtime agree)', () => {
    const ir = tinyIR({ epochs: [1, 1], finetune: 1 });
    const [p1, p2, finetune] = ir.phases as [PhaseSpec, PhaseSpec, PhaseSpec];
    expect(prefixCachePlan(ir, p1, 2 ** 30).reason).toBe('no frozen partitions');
    expect(prefixCachePlan(ir, finetune, 2 ** 30).cached).toBe(false);
    const plan = prefixCachePlan(ir, p2, 2 ** 30);
    expect(plan.cached).toBe(true);
    expect(plan.bytes).toBe(plan.bytesPerExample * (240 - 60));
    expect(prefixCachePlan(ir, p2, 1000).reason).toBe('it does not fit beside the training step');
    const augmented = { ...ir, data: { ...ir.data, augment: [{ type: 'flip' as const }] } };
    expect(prefixCachePlan(augmented as IR, augmented.phases[1]!, 2 ** 30).cached).toBe(false);
  });

  it('stops on a non-finite loss, naming phase, epoch and step', async () => {
    const ir = tinyIR({ epochs: [2, 1] });
    const { network, data } = await setup(ir);
    // One poisoned example: the step whose batch holds it must fail.
    const length = data.train.images.length / data.train.count;
    data.train.images[37 * length] = NaN;
    const failure = await new Trainer({ network, data, seed: 1 }).run().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NonFiniteLossError);
    const error = failure as NonFiniteLossError;
    expect(error.phase).toBe('p1');
    expect(error.epoch).toBe(1);
    expect(error.step).toBeGreaterThanOrEqual(1);
    expect(error.step).toBeLessThanOrEqual(Math.floor(data.train.count / ir.data.batch));
    expect(error.message).toBe(`loss became NaN in phase p1, epoch 1, step ${error.step}`);
    network.dispose();
  });

  it('runs finetune end to end and the layer-wise MI lr per partition', async () => {
    const ir = tinyIR({ epochs: [1, 1], finetune: 1, lr: { type: 'layerwise', by: 'mi', max: 0.1, min: 0.001, threshold: 0.01 } });
    const { network, data } = await setup(ir);
    const metrics: EpochMetrics[] = [];
    const before = await snapshot(network, () => true);
    await new Trainer({ network, data, seed: 1, hooks: { onEpoch: (m) => void metrics.push(m) } }).run();
    expect(metrics.map((m) => m.phase)).toEqual(['p1', 'p2', 'finetune']);
    expect(metrics[2]!.head).toBe('network');
    const after = await snapshot(network, () => true);
    expect(after.get('c1.kernel')).not.toEqual(before.get('c1.kernel'));
    network.dispose();
  });
});
