import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracySvg, lrSvg, tasksSvg, writeRunPlots } from '../../src/runtime/run-plots.js';
import type { EpochMetrics } from '../../src/runtime/trainer.js';
import { xmlProblems } from '../plot/well-formed.js';

function line(phase: string, epoch: number, lr: number, groups: Record<string, number>, valAcc: number | null = 0.5): EpochMetrics {
  return {
    phase, epoch, epochs: 2, head: phase === 'p1' ? 'p1.head' : 'network', loss: 1, acc: 0.4, val_loss: valAcc === null ? null : 1.1, val_acc: valAcc, test_loss: null, test_acc: null,
    mi: null, lr, momentum: 0.9, lr_groups: groups, mi_groups: null, seconds: 1, examples_per_s: 10,
  };
}

const circles = (svg: string) => svg.match(/<circle /g)?.length ?? 0;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mono-plots-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('run folder plots', () => {
  const lines = [line('p1', 1, 0.1, { p1: 0.1 }), line('p1', 2, 0.05, { p1: 0.05 }), line('p2', 1, 0.1, { p2: 0.1 }, null)];

  it('draws one point per epoch per series, breaks at missing values, and labels each phase start', () => {
    const svg = accuracySvg(lines);
    expect(xmlProblems(svg)).toEqual([]);
    // Hold-out has no value in the last epoch: 2 + 3 train points.
    expect(circles(svg)).toBe(5);
    expect(svg).toContain('>p1 (p1.head)<');
    expect(svg).toContain('>p2 (network)<');
    expect(svg).toContain('>40<'); // accuracy in percent
  });

  it('plots group lrs only when they differ from the phase lr', () => {
    expect(lrSvg(lines)).not.toContain('>lr p1<');
    const layerwise = [line('finetune', 1, 0.1, { p1: 0.1, p2: 0.02 }), line('finetune', 2, 0.05, { p1: 0.01, p2: 0.02 })];
    const svg = lrSvg(layerwise);
    expect(svg).toContain('>lr p1<');
    expect(svg).toContain('>lr p2<');
    expect(circles(svg)).toBe(6);
    expect(xmlProblems(svg)).toEqual([]);
  });

  it('writes metrics.svg, loss.svg and lr.svg and leaves no temporary file', async () => {
    const files = await writeRunPlots(root, lines);
    expect(files.map((f) => path.basename(f))).toEqual(['metrics.svg', 'loss.svg', 'lr.svg']);
    expect((await readdir(root)).sort()).toEqual(['loss.svg', 'lr.svg', 'metrics.svg']);
    expect(circles(await readFile(path.join(root, 'loss.svg'), 'utf8'))).toBe(5);
  });

  it('draws tasks.svg for incremental tasks: each task from when it was learnt, the average and the forgetting', async () => {
    expect(tasksSvg(lines)).toBeUndefined();
    const task = (n: number, acc: number[], forgetting: number | null): EpochMetrics => ({
      ...line(`main.task${n}`, 1, 0.1, {}),
      task: n,
      task_acc: acc,
      avg_acc: acc.reduce((a, b) => a + b, 0) / acc.length,
      forgetting: [],
      avg_forgetting: forgetting,
      task_split: 'holdout',
    });
    const incremental = [line('main.task1', 1, 0.1, {}), task(1, [0.9], null), task(2, [0.3, 0.95], 0.6), task(3, [0.1, 0.2, 0.97], 0.775)];
    const svg = tasksSvg(incremental)!;
    expect(xmlProblems(svg)).toEqual([]);
    // task 1: 3 points, task 2: 2, task 3: 1, average 3, forgetting 2 (none after the first task).
    expect(circles(svg)).toBe(11);
    expect(svg).toContain('>task 3<');
    expect(svg).toContain('>main.task2<');
    const dir = path.join(root, 'incremental');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    expect((await writeRunPlots(dir, incremental)).map((f) => path.basename(f))).toEqual(['metrics.svg', 'loss.svg', 'lr.svg', 'tasks.svg']);
  });
});
