import { describe, expect, it } from 'vitest';
import {
  epochsCsv,
  firstEpochAtTarget,
  formatEpochToTarget,
  markdownTable,
  meanCurve,
  parseMetrics,
  resultsCsv,
  runResult,
  spread,
  summarize,
} from '../../scripts/experiment/aggregate.js';
import { existsSync, readFileSync } from 'node:fs';
import { ARMS, DATASETS, FULL_SIZE, LR_GRID, planText, sweepText } from '../../scripts/experiment/plans.js';
import { compilePlan } from '../../src/compile.js';

function line(phase: string, epoch: number, valAcc: number | null, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ phase, epoch, epochs: 2, head: 'network', loss: 1, acc: 0.5, val_loss: 1, val_acc: valAcc, mi: 0.5, lr: 0.1, momentum: 0.9, seconds: 2, ...extra });
}

function run(arm: string, seed: number, accs: (number | null)[], target = 0.9) {
  const text = accs.map((a, i) => line(i < 2 ? 'p1' : 'p2', (i % 2) + 1, a)).join('\n');
  return runResult({ dataset: 'mnist', arm, seed, target, wallSeconds: 10 }, parseMetrics(text));
}

describe('experiment aggregation', () => {
  it('numbers epochs across phases and reads lr_groups', () => {
    const epochs = parseMetrics([line('p1', 1, 0.5), '', line('p2', 1, 0.8, { lr_groups: { p1: 0.01, p2: 0.02 } })].join('\n'));
    expect(epochs.map((e) => [e.globalEpoch, e.phase, e.epoch])).toEqual([
      [1, 'p1', 1],
      [2, 'p2', 1],
    ]);
    expect(epochs[1]!.lrGroups).toEqual({ p1: 0.01, p2: 0.02 });
  });

  it('finds the first epoch at or above the target', () => {
    const r = run('const', 1, [0.5, 0.9, 0.85, 0.95]);
    expect(r.epochToTarget).toBe(2);
    expect(r.finalValAcc).toBe(0.95);
    expect(r.bestValAcc).toBe(0.95);
    expect(r.trainSeconds).toBe(8);
    expect(firstEpochAtTarget(r.epochs, 0.99)).toBeNull();
    expect(run('const', 1, [null, 0.91]).epochToTarget).toBe(2);
  });

  it('computes mean, sample std, min and max', () => {
    const s = spread([1, 2, 3, 4])!;
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect([s.min, s.max, s.n]).toEqual([1, 4, 4]);
    expect(spread([7])!.std).toBe(0);
    expect(spread([])).toBeNull();
  });

  it('summarizes per arm over seeds, counting runs that reach the target', () => {
    const runs = [run('const', 1, [0.5, 0.92]), run('const', 2, [0.5, 0.8]), run('adam', 1, [0.95, 0.96]), run('const', 3, [0.9, 0.9])];
    const [constant, adam] = summarize(runs);
    expect(constant!.arm).toBe('const');
    expect(constant!.runs).toBe(3);
    expect(constant!.reachedTarget).toBe(2);
    expect(constant!.epochToTarget!.mean).toBe(1.5);
    expect(constant!.finalValAcc!.mean).toBeCloseTo((0.92 + 0.8 + 0.9) / 3, 12);
    expect(constant!.meanCurve[0]).toBeCloseTo((0.5 + 0.5 + 0.9) / 3, 12);
    expect(adam!.epochToTarget!.min).toBe(1);
    expect(formatEpochToTarget(constant!)).toBe('1.5 ± 0.7 (1-2), 2/3');
    expect(formatEpochToTarget({ ...constant!, epochToTarget: null, reachedTarget: 0 })).toBe('never (0/3)');
    expect(meanCurve([run('a', 1, [0.5, null]), run('a', 2, [0.7, 0.8])])).toEqual([0.6, null]);
  });

  it('writes CSV and Markdown tables', () => {
    const runs = [run('const', 1, [0.5, 0.92])];
    expect(resultsCsv(runs).split('\n')[1]).toBe('mnist,const,1,0.92,0.92,0.9,2,2,4,10');
    expect(epochsCsv(runs).split('\n')).toHaveLength(4);
    const table = markdownTable(summarize(runs), { const: 'constant' }, 0.9);
    expect(table).toContain('| constant | 92.0 ± 0.0 (92.0-92.0) | 2.0 ± 0.0 (2-2), 1/1 |');
  });
});

describe('experiment plans', () => {
  it('every arm compiles to the same network, data and phase structure', () => {
    for (const dataset of DATASETS) {
      const shapes = ARMS.map((arm) => {
        const result = compilePlan(planText(arm, dataset, FULL_SIZE), `${arm}.mono`);
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const ir = result.ir!;
        return JSON.stringify({ nodes: ir.nodes, parameters: ir.parameters, data: ir.data, phases: ir.phases.map((p) => [p.name, p.epochs, p.trainable]) });
      });
      expect(new Set(shapes).size).toBe(1);
    }
  });

  it('uses the lr param in every phase: the finetune at lr / 5', () => {
    for (const arm of ARMS) {
      const ir = compilePlan(planText(arm, 'mnist', FULL_SIZE), `${arm}.mono`, { set: { lr: '0.02' } }).ir!;
      expect(ir.phases.map((p) => (p.optimizer.type === 'stdp' ? NaN : p.optimizer.lr))).toEqual([0.02, 0.02, 0.004]);
    }
  });

  it('the committed plans and sweep files are what scripts/experiment-plans.ts writes', () => {
    for (const dataset of DATASETS) {
      for (const arm of ARMS) expect(readFileSync(new URL(`../../docs/experiments/plans/${dataset}-${arm}.mono`, import.meta.url), 'utf8')).toBe(planText(arm, dataset, FULL_SIZE));
      expect(readFileSync(new URL(`../../docs/experiments/${dataset}-tune.sweep`, import.meta.url), 'utf8')).toBe(sweepText(dataset, 'tune'));
      for (const [stage, name] of [['edge', `${dataset}-tune-edge`], ['eval', dataset]] as const) {
        const text = sweepText(dataset, stage);
        const file = new URL(`../../docs/experiments/${name}.sweep`, import.meta.url);
        if (text === null) expect(existsSync(file)).toBe(false);
        else expect(readFileSync(file, 'utf8')).toBe(text);
      }
    }
  });

  it('gives every arm a grid of the same size', () => {
    expect(new Set(ARMS.map((arm) => LR_GRID[arm].length))).toEqual(new Set([4]));
  });
});
