/**
 * The run folder's plots, redrawn from metrics.jsonl after every epoch:
 *   metrics.svg  train and hold-out accuracy against the epoch, across phases
 *   loss.svg     train and hold-out loss
 *   lr.svg       the lr (log axis), and each group's lr when they differ (layerwise)
 *   noise.svg    with a `probe noise(...)`: tr(C) and lambda_1 of each partition's gradient covariance
 *   tasks.svg    (plans with `each task`) after each task: accuracy on every task seen so
 *                far, their average, and the average forgetting (docs/tasks.md)
 * Epochs are counted across phases; a dashed line labelled with the phase name
 * marks where each phase starts.
 */
import path from 'node:path';
import { paddedDomain, renderChart, type AxisScale, type MarkerSpec, type SeriesSpec } from '../plot/index.js';
import { writeFileAtomically } from './run-folder.js';
import type { EpochMetrics } from './trainer.js';

export const METRICS_PLOT_FILE = 'metrics.svg';
export const LOSS_PLOT_FILE = 'loss.svg';
export const LR_PLOT_FILE = 'lr.svg';
export const NOISE_PLOT_FILE = 'noise.svg';
export const TASKS_PLOT_FILE = 'tasks.svg';

type Point = readonly [number, number];

/** Phase starts as markers at the half epoch before each phase's first epoch. */
function phaseMarkers(lines: readonly EpochMetrics[]): MarkerSpec[] {
  const markers: MarkerSpec[] = [];
  lines.forEach((line, i) => {
    if (i === 0 || lines[i - 1]!.phase !== line.phase) markers.push({ x: i + 0.5, label: `${line.phase} (${line.head})`, color: '#999999' });
  });
  return markers;
}

const points = (lines: readonly EpochMetrics[], value: (line: EpochMetrics) => number | null | undefined): Point[] =>
  lines.map((line, i) => [i + 1, value(line) ?? Number.NaN] as const);

const EPOCH_AXIS = 'epoch (across phases)';

function plot(lines: readonly EpochMetrics[], title: string, yTitle: string, series: SeriesSpec[], scale: AxisScale = 'linear'): string {
  return renderChart({
    title,
    width: 760,
    height: 420,
    x: { title: EPOCH_AXIS, domain: [0.5, Math.max(1, lines.length) + 0.5] },
    y: { title: yTitle, scale, domain: paddedDomain(series, scale) },
    series: series.map((s) => ({ ...s, dots: true })),
    markers: phaseMarkers(lines),
    // Outside the plot area, so neither covers a curve.
    markerLabels: 'above',
    legend: 'below',
  });
}

export function accuracySvg(lines: readonly EpochMetrics[]): string {
  const percent = (v: number | null) => (v === null ? null : 100 * v);
  return plot(lines, 'Top-1 accuracy of the trained head', 'accuracy, %', [
    { name: 'hold-out', points: points(lines, (l) => percent(l.val_acc)), color: '#d62728' },
    { name: 'train (running mean over the epoch)', points: points(lines, (l) => percent(l.acc)), color: '#1f77b4', dashed: true },
  ]);
}

export function lossSvg(lines: readonly EpochMetrics[]): string {
  return plot(lines, 'Cross-entropy loss of the trained head', 'loss', [
    { name: 'hold-out', points: points(lines, (l) => l.val_loss), color: '#d62728' },
    { name: 'train (running mean over the epoch)', points: points(lines, (l) => l.loss), color: '#1f77b4', dashed: true },
  ]);
}

export function lrSvg(lines: readonly EpochMetrics[]): string {
  const series: SeriesSpec[] = [{ name: 'lr', points: points(lines, (l) => l.lr), color: '#333333' }];
  // Per-group lines only when some group's lr differs from the phase lr (layerwise): else they would hide it.
  const groupsDiffer = lines.some((l) => Object.values(l.lr_groups ?? {}).some((lr) => lr !== l.lr));
  if (groupsDiffer) {
    const groups = [...new Set(lines.flatMap((l) => Object.keys(l.lr_groups ?? {})))];
    for (const group of groups) series.push({ name: `lr ${group}`, points: points(lines, (l) => l.lr_groups?.[group]), dashed: true });
  }
  return plot(lines, 'Learning rate at the end of each epoch (before lr multipliers)', 'lr (log scale)', series, 'log');
}

/**
 * The size and the shape of the gradient noise: each partition's total variance tr(C)
 * (solid) and its largest eigenvalue (dashed), log axis. The gap between the two is
 * the anisotropy: they meet when the noise lies along one direction.
 */
export function noiseSvg(lines: readonly EpochMetrics[]): string {
  const partitions = [...new Set(lines.flatMap((l) => Object.keys(l.noise ?? {})))];
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const series: SeriesSpec[] = partitions.flatMap((partition, i) => {
    const color = palette[i % palette.length]!;
    // A zero variance has no place on a log axis.
    const positive = (v: number | undefined) => (v !== undefined && v > 0 ? v : undefined);
    return [
      { name: `${partition} tr(C)`, points: points(lines, (l) => positive(l.noise?.[partition]?.trace)), color },
      { name: `${partition} λ1`, points: points(lines, (l) => positive(l.noise?.[partition]?.top[0])), color, dashed: true },
    ];
  });
  return plot(lines, 'Gradient noise: total variance tr(C) and largest eigenvalue λ1 per partition', 'variance (log scale)', series, 'log');
}

/**
 * The task metrics of an incremental run against the number of tasks learnt: one line
 * per task (its accuracy from the moment it was learnt), the average over the tasks seen,
 * and the average forgetting. Undefined when no line ends a task.
 */
export function tasksSvg(lines: readonly EpochMetrics[]): string | undefined {
  const ends = lines.filter((l) => l.task_acc !== undefined);
  if (ends.length === 0) return undefined;
  const percent = (v: number | null | undefined) => (v === null || v === undefined ? Number.NaN : 100 * v);
  const tasks = Math.max(...ends.map((e) => e.task_acc!.length));
  const series: SeriesSpec[] = [];
  for (let task = 0; task < tasks; task++) {
    series.push({ name: `task ${task + 1}`, points: ends.map((e, i) => [i + 1, percent(e.task_acc![task])] as const), dashed: true });
  }
  series.push({ name: 'average over the tasks seen', points: ends.map((e, i) => [i + 1, percent(e.avg_acc)] as const), color: '#000000' });
  series.push({ name: 'average forgetting', points: ends.map((e, i) => [i + 1, percent(e.avg_forgetting)] as const), color: '#d62728' });
  const split = ends[0]!.task_split === 'test' ? 'test' : 'hold-out';
  return renderChart({
    title: `Accuracy on each task after each task (${split} examples of its classes)`,
    width: 760,
    height: 420,
    x: { title: 'tasks learnt (end of each task phase)', domain: [0.5, ends.length + 0.5] },
    y: { title: 'accuracy, forgetting, %', domain: [-5, 105] },
    series: series.map((s) => ({ ...s, dots: true })),
    markers: ends.map((e, i) => ({ x: i + 1, label: e.phase, color: '#dddddd' })),
    markerLabels: 'above',
    legend: 'below',
  });
}

/** Redraws the plots of a run folder from its metrics lines (tasks.svg only for incremental tasks); returns their paths. */
export async function writeRunPlots(dir: string, lines: readonly EpochMetrics[]): Promise<string[]> {
  const files: [string, string][] = [
    [METRICS_PLOT_FILE, accuracySvg(lines)],
    [LOSS_PLOT_FILE, lossSvg(lines)],
    [LR_PLOT_FILE, lrSvg(lines)],
  ];
  if (lines.some((l) => l.noise && Object.values(l.noise).some((n) => n.trace > 0))) files.push([NOISE_PLOT_FILE, noiseSvg(lines)]);
  const tasks = tasksSvg(lines);
  if (tasks !== undefined) files.push([TASKS_PLOT_FILE, tasks]);
  for (const [name, text] of files) await writeFileAtomically(path.join(dir, name), text);
  return files.map(([name]) => path.join(dir, name));
}
