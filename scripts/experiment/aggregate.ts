/**
 * Aggregation of the experiment's runs: per-epoch records from metrics.jsonl,
 * one result per run, statistics over seeds, and the CSV and Markdown tables.
 * Pure functions (no file access), unit-tested in test/scripts/experiment.test.ts.
 */

/** One epoch of a run, numbered across phases from 1. */
export interface EpochRecord {
  globalEpoch: number;
  phase: string;
  epoch: number;
  head: string;
  valAcc: number | null;
  valLoss: number | null;
  mi: number | null;
  lr: number;
  momentum: number;
  lrGroups: Record<string, number>;
  seconds: number;
}

export interface RunResult {
  dataset: string;
  arm: string;
  seed: number;
  target: number;
  epochs: EpochRecord[];
  finalValAcc: number | null;
  bestValAcc: number | null;
  /** First epoch (across phases, from 1) whose hold-out accuracy is >= target; null when never. */
  epochToTarget: number | null;
  trainSeconds: number;
  wallSeconds: number;
}

// One mean-and-spread for the sweep's tables and the experiment's: src/sweep/results.ts.
export { spread, type Spread } from '../../src/sweep/results.js';
import { spread, type Spread } from '../../src/sweep/results.js';

export interface ArmSummary {
  dataset: string;
  arm: string;
  runs: number;
  finalValAcc: Spread | null;
  /** Over the runs that reached the target. */
  epochToTarget: Spread | null;
  reachedTarget: number;
  trainSeconds: Spread | null;
  /** Mean hold-out accuracy per epoch over the seeds (null where a seed has no value). */
  meanCurve: (number | null)[];
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Parses a run's metrics.jsonl text into epoch records (blank lines ignored). */
export function parseMetrics(text: string): EpochRecord[] {
  const records: EpochRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = JSON.parse(line) as Record<string, unknown>;
    const groups = (m.lr_groups ?? {}) as Record<string, unknown>;
    records.push({
      globalEpoch: records.length + 1,
      phase: String(m.phase),
      epoch: Number(m.epoch),
      head: String(m.head),
      valAcc: numberOrNull(m.val_acc),
      valLoss: numberOrNull(m.val_loss),
      mi: numberOrNull(m.mi),
      lr: Number(m.lr),
      momentum: Number(m.momentum),
      lrGroups: Object.fromEntries(Object.entries(groups).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
      seconds: Number(m.seconds),
    });
  }
  return records;
}

export function firstEpochAtTarget(epochs: readonly EpochRecord[], target: number): number | null {
  for (const e of epochs) if (e.valAcc !== null && e.valAcc >= target) return e.globalEpoch;
  return null;
}

export function runResult(
  info: { dataset: string; arm: string; seed: number; target: number; wallSeconds: number },
  epochs: EpochRecord[],
): RunResult {
  const accs = epochs.map((e) => e.valAcc).filter((v): v is number => v !== null);
  return {
    ...info,
    epochs,
    finalValAcc: epochs.length > 0 ? epochs[epochs.length - 1]!.valAcc : null,
    bestValAcc: accs.length > 0 ? Math.max(...accs) : null,
    epochToTarget: firstEpochAtTarget(epochs, info.target),
    trainSeconds: epochs.reduce((sum, e) => sum + e.seconds, 0),
  };
}


/** Mean of each epoch's hold-out accuracy over runs (all runs of one arm have the same epochs). */
export function meanCurve(runs: readonly RunResult[]): (number | null)[] {
  const length = Math.max(0, ...runs.map((r) => r.epochs.length));
  const curve: (number | null)[] = [];
  for (let i = 0; i < length; i++) {
    const values = runs.map((r) => r.epochs[i]?.valAcc).filter((v): v is number => typeof v === 'number');
    curve.push(values.length === runs.length && values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : null);
  }
  return curve;
}

/** Summaries per (dataset, arm), in the order of first appearance. */
export function summarize(runs: readonly RunResult[]): ArmSummary[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = `${run.dataset}\u0000${run.arm}`;
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  return [...groups.values()].map((list) => {
    const finals = list.map((r) => r.finalValAcc).filter((v): v is number => v !== null);
    const reached = list.map((r) => r.epochToTarget).filter((v): v is number => v !== null);
    return {
      dataset: list[0]!.dataset,
      arm: list[0]!.arm,
      runs: list.length,
      finalValAcc: spread(finals),
      epochToTarget: spread(reached),
      reachedTarget: reached.length,
      trainSeconds: spread(list.map((r) => r.trainSeconds)),
      meanCurve: meanCurve(list),
    };
  });
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return [header.join(','), ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
}

/** One line per run. */
export function resultsCsv(runs: readonly RunResult[]): string {
  return csv(
    ['dataset', 'arm', 'seed', 'final_val_acc', 'best_val_acc', 'target', 'epoch_to_target', 'epochs', 'train_seconds', 'wall_seconds'],
    runs.map((r) => [
      r.dataset,
      r.arm,
      r.seed,
      r.finalValAcc,
      r.bestValAcc,
      r.target,
      r.epochToTarget,
      r.epochs.length,
      Number(r.trainSeconds.toFixed(2)),
      Number(r.wallSeconds.toFixed(2)),
    ]),
  );
}

/** One line per epoch of every run; lr_groups as `group=lr` pairs joined by `;`. */
export function epochsCsv(runs: readonly RunResult[]): string {
  const rows: (string | number | null)[][] = [];
  for (const r of runs) {
    for (const e of r.epochs) {
      const groups = Object.entries(e.lrGroups)
        .map(([g, lr]) => `${g}=${lr}`)
        .join(';');
      rows.push([r.dataset, r.arm, r.seed, e.globalEpoch, e.phase, e.epoch, e.head, e.valAcc, e.valLoss, e.mi, e.lr, e.momentum, groups, Number(e.seconds.toFixed(2))]);
    }
  }
  return csv(['dataset', 'arm', 'seed', 'global_epoch', 'phase', 'epoch', 'head', 'val_acc', 'val_loss', 'mi', 'lr', 'momentum', 'lr_groups', 'seconds'], rows);
}

function percent(value: number): string {
  return (100 * value).toFixed(1);
}

/** `mean ± std (min-max)` of accuracies in percent. */
export function formatAccuracy(s: Spread | null): string {
  if (!s) return '-';
  return `${percent(s.mean)} ± ${percent(s.std)} (${percent(s.min)}-${percent(s.max)})`;
}

/** Epoch to target: mean ± std (min-max) over the runs that reached it, and how many did. */
export function formatEpochToTarget(summary: ArmSummary): string {
  const s = summary.epochToTarget;
  if (!s) return `never (0/${summary.runs})`;
  const reached = `${summary.reachedTarget}/${summary.runs}`;
  return `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)} (${s.min}-${s.max}), ${reached}`;
}

/** Markdown table of one data set's arms. */
export function markdownTable(summaries: readonly ArmSummary[], labels: Record<string, string>, target: number): string {
  const lines = [
    `| arm | final hold-out acc, % (mean ± std, min-max) | epoch reaching ${percent(target)}% (mean ± std, min-max, runs) | train s/run |`,
    '|---|---|---|---|',
  ];
  for (const s of summaries) {
    const seconds = s.trainSeconds ? s.trainSeconds.mean.toFixed(0) : '-';
    lines.push(`| ${labels[s.arm] ?? s.arm} | ${formatAccuracy(s.finalValAcc)} | ${formatEpochToTarget(s)} | ${seconds} |`);
  }
  return lines.join('\n') + '\n';
}
