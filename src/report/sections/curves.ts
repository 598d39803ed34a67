/**
 * The report's charts (through src/plot/'s renderChart): loss and accuracy (train,
 * hold-out, test) with the phases as shaded bands; lr and momentum per parameter
 * group; MI per head; time per step and examples/s. With several runs, each chart
 * overlays the runs' curves.
 */
import { paddedDomain, PALETTE, renderChart, type AxisScale, type BandSpec, type ChartSpec, type SeriesSpec } from '../../plot/index.js';
import { absent, escapeHtml, section } from '../html.js';
import type { MetricsLine, RunRecord } from '../types.js';
import { headOfPartition, phaseSpans, plannedEpochs } from './phases.js';

const EPOCH_AXIS = 'epoch (across phases)';
const BAND_COLORS = ['#1f77b4', '#ff7f0e'];

type Value = (line: MetricsLine) => number | null | undefined;

/** Numbers charts with unique ids: their clip paths share the page's id space. */
export class ChartIds {
  private count = 0;
  next(): string {
    this.count++;
    return `chart-${this.count}`;
  }
}

const series = (lines: readonly MetricsLine[], value: Value) => lines.map((line, i) => [i + 1, value(line) ?? Number.NaN] as const);
const hasData = (s: SeriesSpec) => s.points.some(([, y]) => Number.isFinite(y));

/** The phases of a run as alternately shaded bands, labelled with the phase's name. */
export function phaseBands(run: RunRecord): BandSpec[] {
  return phaseSpans(run).map((span, i) => ({ from: span.first - 0.5, to: span.last + 0.5, label: span.name, color: BAND_COLORS[i % BAND_COLORS.length]! }));
}

function chart(ids: ChartIds, runs: readonly RunRecord[], spec: { title: string; y: string; scale?: AxisScale; series: SeriesSpec[]; caption?: string }): string {
  const shown = spec.series.filter(hasData);
  if (shown.length === 0) return '';
  const epochs = Math.max(1, ...runs.map(plannedEpochs));
  const full: ChartSpec = {
    title: spec.title,
    width: 760,
    height: 400,
    x: { title: EPOCH_AXIS, domain: [0.5, epochs + 0.5] },
    y: { title: spec.y, scale: spec.scale ?? 'linear', domain: paddedDomain(shown, spec.scale ?? 'linear') },
    series: shown.map((s) => ({ ...s, dots: true })),
    bands: runs[0] ? phaseBands(runs[0]) : [],
    markerLabels: 'above',
    legend: 'below',
  };
  const caption = spec.caption ? `<figcaption>${escapeHtml(spec.caption)}</figcaption>` : '';
  return `<figure class="chart">${renderChart(full, { idPrefix: ids.next() })}${caption}</figure>`;
}

const percent = (value: number | null) => (value === null ? null : 100 * value);

/** Series colours: by run when several runs are overlaid, by what they show otherwise. */
function runColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

function groupsOf(lines: readonly MetricsLine[], pick: (line: MetricsLine) => Record<string, number> | null): string[] {
  return [...new Set(lines.flatMap((line) => Object.keys(pick(line) ?? {})))];
}

/** One run: every chart, each with the run's phases as bands. */
function singleRunCharts(ids: ChartIds, run: RunRecord): string[] {
  const lines = run.metrics;
  const runs = [run];
  const trainCaption = 'train: running mean over the epoch, dashed; test: on the source\'s test split at the end of a phase (plans with `test true`).';
  const groups = groupsOf(lines, (l) => l.lr_groups);
  const miGroups = groupsOf(lines, (l) => l.mi_groups);
  const msPerStep = stepMilliseconds(run);
  return [
    chart(ids, runs, {
      title: 'Cross-entropy loss of the trained head',
      y: 'loss',
      series: [
        { name: 'hold-out', points: series(lines, (l) => l.val_loss), color: '#d62728' },
        { name: 'train', points: series(lines, (l) => l.loss), color: '#1f77b4', dashed: true },
        { name: 'test', points: series(lines, (l) => l.test_loss), color: '#2ca02c' },
      ],
      caption: trainCaption,
    }),
    chart(ids, runs, {
      title: 'Top-1 accuracy of the trained head',
      y: 'accuracy, %',
      series: [
        { name: 'hold-out', points: series(lines, (l) => percent(l.val_acc)), color: '#d62728' },
        { name: 'train', points: series(lines, (l) => percent(l.acc)), color: '#1f77b4', dashed: true },
        { name: 'test', points: series(lines, (l) => percent(l.test_acc)), color: '#2ca02c' },
      ],
      caption: trainCaption,
    }),
    chart(ids, runs, {
      title: 'Learning rate per parameter group (end of each epoch, before lr multipliers)',
      y: 'lr (log scale)',
      scale: 'log',
      series: groups.length > 0 ? groups.map((g, i) => ({ name: `lr ${g}`, points: series(lines, (l) => l.lr_groups[g]), color: runColor(i), dashed: i % 2 === 1 })) : [{ name: 'lr', points: series(lines, (l) => l.lr), color: '#333333' }],
      caption: 'A group is a partition\'s parameters; it has a value in the epochs that train it. Groups with equal values share one line (the last drawn shows).',
    }),
    chart(ids, runs, {
      title: 'Momentum per parameter group (end of each epoch)',
      y: 'momentum',
      series:
        groups.length > 0
          ? groups.map((g, i) => ({ name: `momentum ${g}`, points: series(lines, (l) => (g in l.lr_groups ? l.momentum : null)), color: runColor(i), dashed: i % 2 === 1 }))
          : [{ name: 'momentum', points: series(lines, (l) => l.momentum), color: '#333333' }],
      caption: 'Adam phases show beta1\'s schedule value here.',
    }),
    chart(ids, runs, {
      title: 'Normalised mutual information I(Y; prediction) / H(Y) per head, on the hold-out data',
      y: 'MI (normalised)',
      series: miGroups.map((g, i) => ({ name: `${headOfPartition(run, g)} (${g})`, points: series(lines, (l) => l.mi_groups?.[g]), color: runColor(i) })),
    }),
    chart(ids, runs, {
      title: 'Time per training step',
      y: 'ms per step',
      series: [{ name: 'ms per step (epoch mean)', points: series(lines, msPerStep), color: '#8c564b' }],
      caption: 'The epoch\'s training time over its steps (hold-out evaluation excluded).',
    }),
    chart(ids, runs, {
      title: 'Training throughput',
      y: 'examples/s',
      series: [{ name: 'examples/s', points: series(lines, (l) => l.examples_per_s), color: '#9467bd' }],
    }),
  ];
}

/** Milliseconds per step: every step takes a full batch (the trainer drops a partial last one). */
function stepMilliseconds(run: RunRecord): Value {
  const batch = run.ir?.data.batch;
  return (line) => (batch !== undefined && line.examples_per_s ? (1000 * batch) / line.examples_per_s : null);
}

/** Several runs: each chart overlays one curve per run (hold-out solid, train dashed). */
function overlayCharts(ids: ChartIds, runs: readonly RunRecord[]): string[] {
  const perRun = (name: string, value: Value, dashed = false) => runs.map((run, i) => ({ name: `${run.name}${name}`, points: series(run.metrics, value), color: runColor(i), dashed }));
  const bandsNote = `Shaded bands: the phases of ${runs[0]!.name}.`;
  return [
    chart(ids, runs, { title: 'Cross-entropy loss of the trained head', y: 'loss', series: [...perRun(' hold-out', (l) => l.val_loss), ...perRun(' train', (l) => l.loss, true)], caption: bandsNote }),
    chart(ids, runs, {
      title: 'Top-1 accuracy of the trained head',
      y: 'accuracy, %',
      series: [...perRun(' hold-out', (l) => percent(l.val_acc)), ...perRun(' train', (l) => percent(l.acc), true)],
      caption: bandsNote,
    }),
    chart(ids, runs, { title: 'Learning rate (end of each epoch)', y: 'lr (log scale)', scale: 'log', series: perRun('', (l) => l.lr) }),
    chart(ids, runs, { title: 'Momentum (end of each epoch)', y: 'momentum', series: perRun('', (l) => l.momentum) }),
    chart(ids, runs, { title: 'Normalised MI of the trained head, on the hold-out data', y: 'MI (normalised)', series: perRun('', (l) => l.mi) }),
    chart(ids, runs, { title: 'Time per training step', y: 'ms per step', series: runs.map((run, i) => ({ name: run.name, points: series(run.metrics, stepMilliseconds(run)), color: runColor(i) })) }),
    chart(ids, runs, { title: 'Training throughput', y: 'examples/s', series: perRun('', (l) => l.examples_per_s) }),
  ];
}

export function curvesSection(runs: readonly RunRecord[], ids: ChartIds): string {
  if (runs.every((run) => run.metrics.length === 0)) {
    return section('curves', 'Curves', absent('No epoch has completed yet: metrics.jsonl holds no line.'));
  }
  const charts = (runs.length === 1 ? singleRunCharts(ids, runs[0]!) : overlayCharts(ids, runs)).filter((html) => html !== '');
  return section('curves', runs.length === 1 ? 'Curves' : `Curves of ${runs.length} runs`, `<div class="charts">\n${charts.join('\n')}\n</div>`);
}
