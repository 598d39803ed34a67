/**
 * The run folder's plots, redrawn from metrics.jsonl after every epoch:
 *   metrics.svg  train and hold-out accuracy against the epoch, across phases
 *   loss.svg     train and hold-out loss
 *   lr.svg       the lr (log axis), and each group's lr when they differ (layerwise)
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

/** Redraws the three plots of a run folder from its metrics lines; returns their paths. */
export async function writeRunPlots(dir: string, lines: readonly EpochMetrics[]): Promise<string[]> {
  const files: [string, string][] = [
    [METRICS_PLOT_FILE, accuracySvg(lines)],
    [LOSS_PLOT_FILE, lossSvg(lines)],
    [LR_PLOT_FILE, lrSvg(lines)],
  ];
  for (const [name, text] of files) await writeFileAtomically(path.join(dir, name), text);
  return files.map(([name]) => path.join(dir, name));
}
