/** Run records and run folders for the report's tests, made by hand (no training). */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IR } from '../../src/ir/types.js';
import type { ConfusionRecord, MetricsLine, RunRecord } from '../../src/report/index.js';
import { tinyIR } from '../runtime/tiny-ir.js';

/** A metrics line of epoch `i` (0-based, across phases) with plausible, distinct values. */
export function line(phase: string, epoch: number, epochs: number, i: number, extra: Partial<MetricsLine> = {}): MetricsLine {
  return {
    phase,
    epoch,
    epochs,
    head: phase === 'p1' ? 'p1.head' : 'network',
    loss: 1.2 / (i + 1),
    acc: 0.4 + 0.1 * i,
    val_loss: 1.3 / (i + 1),
    val_acc: 0.35 + 0.1 * i,
    test_loss: null,
    test_acc: null,
    mi: 0.2 + 0.1 * i,
    lr: 0.1 / (i + 1),
    momentum: 0.9,
    lr_groups: { [phase]: 0.1 / (i + 1) },
    mi_groups: { [phase]: 0.2 + 0.1 * i },
    seconds: 1 + i,
    examples_per_s: 200 + 10 * i,
    ...extra,
  };
}

/** The lines of tinyIR's default plan (p1 2 epochs, p2 2 epochs), the first `count` of them. */
export function tinyLines(count = 4): MetricsLine[] {
  const all = [line('p1', 1, 2, 0), line('p1', 2, 2, 1), line('p2', 1, 2, 2), line('p2', 2, 2, 3, { test_loss: 0.5, test_acc: 0.8 })];
  return all.slice(0, count);
}

export const tinyConfusion: ConfusionRecord = { phase: 'p2', epoch: 2, head: 'network', classes: 3, examples: 60, counts: [[18, 1, 1], [2, 17, 1], [0, 3, 17]] };

export function record(overrides: Partial<RunRecord> = {}, ir: IR = tinyIR()): RunRecord {
  return {
    dir: '/runs/tiny-1',
    name: 'tiny-1',
    info: { plan: 'tiny', planFile: '/plans/tiny.mono', seed: 7, set: {}, backend: 'cpu', startedAt: '2026-11-30T12:00:00.000Z' },
    ir,
    source: 'plan tiny\n',
    metrics: tinyLines(),
    confusion: tinyConfusion,
    files: [
      { name: 'ir.json', bytes: 100 },
      { name: 'metrics.jsonl', bytes: 200 },
    ],
    locked: false,
    problems: [],
    ...overrides,
  };
}

/** Writes a run folder's files as mono run would leave them (`lines` in metrics.jsonl, `tail` appended raw). */
export async function writeRunFolder(dir: string, options: { ir?: IR; lines?: MetricsLine[]; tail?: string; confusion?: ConfusionRecord | null } = {}): Promise<void> {
  const ir = options.ir ?? tinyIR();
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'plan.mono'), 'plan tiny\n');
  await writeFile(path.join(dir, 'ir.json'), JSON.stringify(ir));
  await writeFile(path.join(dir, 'run.json'), JSON.stringify({ plan: ir.plan, planFile: '/plans/tiny.mono', seed: 7, set: {}, backend: 'cpu', startedAt: '2026-11-30T12:00:00.000Z' }));
  await writeFile(path.join(dir, 'metrics.jsonl'), (options.lines ?? tinyLines()).map((l) => JSON.stringify(l) + '\n').join('') + (options.tail ?? ''));
  const confusion = options.confusion === undefined ? tinyConfusion : options.confusion;
  if (confusion) await writeFile(path.join(dir, 'confusion.json'), JSON.stringify(confusion));
}
