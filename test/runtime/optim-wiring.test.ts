/**
 * The optimizer side wired through the trainer: MI-driven lr, layer-wise MI lr per
 * partition, momentum schedules, and the LR range test. Tiny nets on synthetic data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { IR, ScheduleSpec } from '../../src/ir/types.js';
import { confusionCounts, mutualInformation } from '../../src/optim/mutual-information.js';
import { createSchedule } from '../../src/optim/schedule.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { loadData, type LoadedData } from '../../src/runtime/data/dataset.js';
import { Network } from '../../src/runtime/graph.js';
import { lrRangeTest } from '../../src/runtime/lr-find.js';
import { Rng } from '../../src/runtime/rng.js';
import { evaluate, ownHeadGraph } from '../../src/runtime/step.js';
import { runRngs, Trainer, type EpochMetrics, type LrBoundsEvent } from '../../src/runtime/trainer.js';
import { tinyIR } from './tiny-ir.js';

beforeAll(async () => {
  await selectBackend({ force: 'cpu' });
});

async function train(ir: IR, options: { lrBounds?: Record<string, { min: number; max: number }>; lrFind?: { steps?: number; from?: number; to?: number } } = {}) {
  const data = await loadData(ir.data);
  const network = new Network(ir, runRngs(1).init);
  const metrics: EpochMetrics[] = [];
  const bounds: LrBoundsEvent[] = [];
  await new Trainer({
    network,
    data,
    seed: 1,
    lrFind: { steps: 30 },
    ...options,
    hooks: { onEpoch: (m) => void metrics.push(m), onLrBounds: (e) => void bounds.push(e) },
  }).run();
  return { network, data, metrics, bounds };
}

/**
 * mono's MI rule (docs/optimizers.md), replayed over the logged MI values: the lr of
 * every epoch. `baseline`: the MI measured before the phase's first step.
 */
function replayMiRule(mis: number[], rule: { max: number; min: number; threshold: number; start: number }, baseline: number): number[] {
  let lr = rule.start;
  let last: number | null = baseline;
  const lrs: number[] = [];
  for (const mi of mis) {
    lrs.push(lr);
    if (last !== null && mi - last <= rule.threshold) lr = Math.min(lr, Math.min(rule.max, Math.max(rule.min, rule.max * (1 - mi))));
    last = mi;
  }
  return lrs;
}

const holdoutMi = async (network: Network, data: LoadedData, partition: string) => {
  const evaluation = await evaluate(network, ownHeadGraph(network, partition)!, data.holdout, 500);
  return mutualInformation(confusionCounts(evaluation.predicted, data.holdout.labels, network.ir.classes), network.ir.classes).normalized;
};

describe('MI-driven lr through the trainer', () => {
  it("feeds each epoch's hold-out MI of the trained head to the schedule: the lr holds while MI rises, then decays", async () => {
    const rule = { max: 0.1, min: 0.001, threshold: 0.05, start: 0.1 };
    const ir = tinyIR({ epochs: [5, 1], noise: 0.6, lr: { type: 'mi', ...rule, start: null, boundsFrom: 'plan' } });
    // The baseline: p1's proxy head on the hold-out data before any step (same seed, same initial weights).
    const fresh = new Network(ir, runRngs(1).init);
    const baseline = await holdoutMi(fresh, await loadData(ir.data), 'p1');
    fresh.dispose();
    const { network, metrics } = await train(ir);
    const p1 = metrics.filter((m) => m.phase === 'p1');
    expect(p1.every((m) => m.mi !== null && m.mi >= 0 && m.mi <= 1)).toBe(true);
    expect(p1.map((m) => m.lr)).toEqual(replayMiRule(p1.map((m) => m.mi!), rule, baseline));
    // The run is long enough for MI to level off: the lr did decay, and never went up.
    expect(p1[p1.length - 1]!.lr).toBeLessThan(rule.max);
    for (let i = 1; i < p1.length; i++) expect(p1[i]!.lr).toBeLessThanOrEqual(p1[i - 1]!.lr);
    // Every line carries the group view too: one group, the trained partition, with the trained head's MI.
    expect(p1[0]!.lr_groups).toEqual({ p1: p1[0]!.lr });
    expect(p1[0]!.mi_groups).toEqual({ p1: p1[0]!.mi });
    network.dispose();
  });
});

describe('layer-wise MI lr', () => {
  it("gives each partition in finetune the lr of its own head's MI (proxy head for p1, network output for p2)", async () => {
    const rule = { max: 0.05, min: 0.0005, threshold: 0.02 };
    const ir = tinyIR({ epochs: [1, 1], finetune: 4, noise: 0.6, pool: 'gap', lr: { type: 'cosine', to: 0.01 } });
    ir.phases[2]!.lr = { type: 'layerwise', by: 'mi', ...rule };
    const { network, data, metrics } = await train(ir);
    const finetune = metrics.filter((m) => m.phase === 'finetune');
    expect(finetune).toHaveLength(4);
    for (const m of finetune) {
      expect(Object.keys(m.lr_groups)).toEqual(['p1', 'p2']);
      expect(m.mi_groups!['p2']).toBe(m.mi);
    }
    // The two heads measure different things (a gap probe after one conv vs the whole net)...
    expect(finetune.some((m) => m.mi_groups!['p1'] !== m.mi_groups!['p2'])).toBe(true);
    // ...and each group's lr follows its own MI sequence by the rule, from the MI its
    // head had when the earlier phases ended (p1 did not change while p2 trained).
    const baselines: Record<string, number> = { p1: metrics[0]!.mi!, p2: metrics[1]!.mi! };
    for (const group of ['p1', 'p2']) {
      const expected = replayMiRule(finetune.map((m) => m.mi_groups![group]!), { ...rule, start: rule.max }, baselines[group]!);
      expect(finetune.map((m) => m.lr_groups[group]), group).toEqual(expected);
    }
    expect(finetune.some((m) => m.lr_groups['p1'] !== m.lr_groups['p2'])).toBe(true);
    // The logged p1 MI is its proxy head's on the hold-out data (weights as after the last epoch).
    expect(finetune[3]!.mi_groups!['p1']).toBeCloseTo(await holdoutMi(network, data, 'p1'), 12);
    network.dispose();
  });
});

describe('momentum schedules through the trainer', () => {
  it('one-cycle momentum moves opposite to the one-cycle lr, epoch by epoch', async () => {
    const ir = tinyIR({ epochs: [4, 1], examples: 120, holdout: 24 });
    ir.phases[0]!.lr = { type: 'onecycle', peak: 0.2, pct: 0.5, end: 0.001 };
    ir.phases[0]!.momentum = { type: 'onecycle', peak: 0.85, pct: 0.5, end: 0.95 };
    const { network, metrics } = await train(ir);
    const p1 = metrics.filter((m) => m.phase === 'p1');
    const signs = (key: 'lr' | 'momentum') => p1.slice(1).map((m, i) => Math.sign(m[key] - p1[i]![key]));
    expect(signs('lr')).toEqual([1, -1, -1]);
    expect(signs('momentum')).toEqual([-1, 1, 1]);
    network.dispose();
  });

  it('every momentum schedule type drives the momentum the optimizer gets', async () => {
    const specs: ScheduleSpec[] = [
      { type: 'constant' },
      { type: 'step', every: 1, factor: 0.9 },
      { type: 'multistep', milestones: [1], factor: 0.8 },
      { type: 'exponential', gamma: 0.95 },
      { type: 'cosine', to: 0.5 },
      { type: 'linear', to: 0.6 },
      { type: 'warmup', epochs: 1, from: 0.5, then: { type: 'constant' } },
      { type: 'onecycle', peak: 0.85, pct: 0.3, end: 0.95 },
      { type: 'anneal', to: 0.5, from: 0.5, shape: 'cosine' },
    ];
    const ir = tinyIR({ epochs: [2, 1], examples: 60, holdout: 12, batch: 12 });
    const data = await loadData(ir.data);
    const steps = Math.floor(data.train.count / ir.data.batch);
    for (const spec of specs) {
      ir.phases[0]!.momentum = spec;
      const network = new Network(ir, runRngs(1).init);
      const metrics: EpochMetrics[] = [];
      await new Trainer({ network, data, seed: 1, hooks: { onEpoch: (m) => void metrics.push(m) } }).run();
      const schedule = createSchedule(spec, 0.9, 2);
      const logged = metrics.filter((m) => m.phase === 'p1').map((m) => m.momentum);
      expect(logged, spec.type).toEqual([schedule.valueAt((steps - 1) / steps), schedule.valueAt(1 + (steps - 1) / steps)]);
      network.dispose();
    }
  });
});

describe('LR range test', () => {
  it('sweeps the lr upwards from tiny to large, suggests min < max, and puts the weights back', async () => {
    const ir = tinyIR({ epochs: [1, 1], examples: 160, holdout: 20 });
    const data = await loadData(ir.data);
    const network = new Network(ir, runRngs(1).init);
    const before = await network.getWeights();
    const result = await lrRangeTest(network, data.train, ir.phases[0]!, new Rng(5), { steps: 60, from: 1e-5, to: 100 });
    expect(result.points.length).toBeGreaterThan(5);
    expect(result.points.length).toBeLessThanOrEqual(60);
    for (let i = 1; i < result.points.length; i++) expect(result.points[i]!.lr).toBeGreaterThan(result.points[i - 1]!.lr);
    expect(result.points[0]!.lr).toBeCloseTo(1e-5, 12);
    expect(result.bounds.min).toBeLessThan(result.bounds.max);
    expect(result.bounds.max).toBeLessThan(100);
    expect(await network.getWeights()).toEqual(before);
    network.dispose();
  });

  it('fills mi(bounds: lr_find) at the start of the phase and logs the bounds', async () => {
    const ir = tinyIR({ epochs: [1, 2], examples: 160, holdout: 20, lr: { type: 'cosine', to: 0.01 } });
    ir.phases[1]!.lr = { type: 'mi', max: 0, min: 0, threshold: 0.01, start: null, boundsFrom: 'lr_find' };
    // A sweep long and wide enough to descend and then diverge: usable.
    const { network, metrics, bounds } = await train(ir, { lrFind: { steps: 30, from: 1e-4, to: 100 } });
    expect(bounds).toHaveLength(1);
    const event = bounds[0]!;
    expect(event).toMatchObject({ phase: 'p2', source: 'lr-find' });
    expect(event.result!.problem).toBeNull();
    expect(event.result!.points.length).toBeGreaterThan(2);
    expect(event.bounds.min).toBeLessThan(event.bounds.max);
    const p2 = metrics.filter((m) => m.phase === 'p2');
    // mi starts at max: the first epoch trains at the suggested upper bound.
    expect(p2[0]!.lr).toBe(event.bounds.max);
    expect(p2[0]!.lr_bounds).toEqual(event.bounds);
    expect(p2.map((m) => m.lr_bounds_source)).toEqual(['lr-find', 'lr-find']);
    expect(p2[0]!.lr_find_rejected).toBeUndefined();
    expect(metrics.find((m) => m.phase === 'p1')!.lr_bounds).toBeUndefined();
    network.dispose();

    // Given bounds skip the sweep (and say so on the metrics lines).
    const given = await train(ir, { lrBounds: { p2: { min: 0.002, max: 0.02 } } });
    expect(given.bounds.map((e) => e.source)).toEqual(['given']);
    expect(given.metrics.find((m) => m.phase === 'p2')!.lr).toBe(0.02);
    expect(given.metrics.find((m) => m.phase === 'p2')!.lr_bounds_source).toBe('given');
    given.network.dispose();
  });

  it("keeps the plan's own mi(max:, min:) when the sweep is unusable, and says why on the event and the metrics lines", async () => {
    const ir = tinyIR({ epochs: [1, 2], examples: 160, holdout: 20 });
    ir.phases[1]!.lr = { type: 'mi', max: 0.1, min: 0.001, threshold: 0.01, start: null, boundsFrom: 'lr_find' };
    // The reported case: 12 steps from the default 1e-7, whose suggestion would be ~[1e-9, 1e-8].
    const { network, metrics, bounds } = await train(ir, { lrFind: { steps: 12 } });
    const event = bounds[0]!;
    expect(event).toMatchObject({ phase: 'p2', source: 'plan', bounds: { min: 0.001, max: 0.1 } });
    expect(event.rejected).toMatch(/^only 12 steps recorded \(at least 20 needed\)/);
    expect(event.result!.problem).toBe(event.rejected);
    expect(event.result!.bounds.max).toBeLessThan(1e-3);
    const p2 = metrics.filter((m) => m.phase === 'p2');
    expect(p2.map((m) => [m.lr_bounds, m.lr_bounds_source, m.lr_find_rejected])).toEqual([
      [{ min: 0.001, max: 0.1 }, 'plan', event.rejected],
      [{ min: 0.001, max: 0.1 }, 'plan', event.rejected],
    ]);
    // mi starts at the plan's max, not at the sweep's useless suggestion.
    expect(p2[0]!.lr).toBe(0.1);
    network.dispose();
  });

  it('refuses to fall back on plan bounds that are not 0 < min <= max (a hand-written IR)', async () => {
    const ir = tinyIR({ epochs: [1, 1], examples: 160, holdout: 20 });
    ir.phases[1]!.lr = { type: 'mi', max: 0, min: 0, threshold: 0.01, start: null, boundsFrom: 'lr_find' };
    await expect(train(ir, { lrFind: { steps: 12 } })).rejects.toThrow(/phase p2: the LR range test is unusable \(only 12 steps recorded.*the plan's mi bounds are not 0 < min <= max/);
  });
});
