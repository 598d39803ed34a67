/**
 * The optimizer experiment's report (docs/experiments.md), from its sweep folders:
 * `mono sweep docs/experiments/<dataset>-tune.sweep` (stage 1: each arm's lr grid on the
 * tuning seed) and `mono sweep docs/experiments/<dataset>.sweep` (stage 2: each arm at its
 * tuned lr on three other seeds).
 *
 *   npx tsx scripts/experiment-report.ts runs/experiment-mnist runs/experiment-fashion
 *          [--tune DIR,DIR,...] [--out docs/experiments]
 *
 * The tuning sweeps default to EVAL_DIR-tune and EVAL_DIR-tune-edge where they exist.
 *
 * Writes into --out: tuning.md (every arm's final hold-out accuracy at each lr of its grid),
 * table.md (stage 2 per arm: final hold-out accuracy, epoch reaching the target, seconds),
 * results.csv (one line per stage-2 run), epochs.csv (one line per epoch of every stage-2
 * run), summary.json, and <dataset>-accuracy.svg (mean hold-out accuracy per epoch and arm).
 * The sweeps' own results.md/.svg stay in their folders.
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type MarkerSpec as PlotMarker, type SeriesSpec as PlotSeries } from '../src/plot/index.js';
import { readSweep, trialDir, type SweepRecord } from '../src/sweep/state.js';
import { epochsCsv, markdownTable, parseMetrics, resultsCsv, runResult, summarize, type ArmSummary, type RunResult } from './experiment/aggregate.js';
import { ARM_LABELS, ARMS, DATASET_INFO, DATASETS, FULL_SIZE, PHASE_NAMES, type Arm, type Dataset } from './experiment/plans.js';

const ARM_COLORS: Record<Arm, string> = { const: '#555555', anneal: '#1f77b4', mi: '#d62728', layerwise: '#ff7f0e', lars: '#8c564b', adam: '#2ca02c', rmsprop: '#9467bd' };

function datasetOf(record: SweepRecord): Dataset {
  const name = record.name.replace(/-tune(-edge)?$/, '');
  if (!(DATASETS as readonly string[]).includes(name)) throw new Error(`${record.name}: not a sweep of the experiment (expected one of ${DATASETS.join(', ')})`);
  return name as Dataset;
}

async function runsOf(dir: string, record: SweepRecord): Promise<RunResult[]> {
  const dataset = datasetOf(record);
  const results: RunResult[] = [];
  for (const trial of record.trials) {
    if (trial.state !== 'done') throw new Error(`${dir}: trial ${trial.id} is ${trial.state}; finish the sweep first (mono sweep --resume ${dir})`);
    const text = await fs.readFile(path.join(trialDir(dir, trial.id), 'metrics.jsonl'), 'utf8');
    results.push(runResult({ dataset, arm: trial.arm, seed: trial.seed ?? 0, target: DATASET_INFO[dataset].target, wallSeconds: trial.wallSeconds }, parseMetrics(text)));
  }
  return results;
}

function lrOf(record: SweepRecord, config: string): string {
  return record.configs.find((c) => c.id === config)?.set.lr ?? '?';
}

interface Tried {
  lr: string;
  acc: number | null;
  failed: boolean;
}

/** Every lr an arm was tried at in the tuning sweeps (stage 1 and 1b), in lr order. */
function triedLrs(records: readonly SweepRecord[], arm: string): Tried[] {
  return records
    .flatMap((record) => record.trials.filter((t) => t.arm === arm).map((t) => ({ lr: lrOf(record, t.config), acc: t.result?.finalValAcc ?? null, failed: t.state === 'failed' })))
    .sort((a, b) => Number(a.lr) - Number(b.lr));
}

/** Stage 1 as a table: per arm, the final hold-out accuracy at each lr; the chosen one in bold. */
function tuningTable(dataset: Dataset, records: readonly SweepRecord[]): string {
  const seeds = [...new Set(records.flatMap((r) => r.trials.map((t) => t.seed)))].join(', ');
  const lines = [`### ${DATASET_INFO[dataset].label}: tuning (seed ${seeds})`, '', '| arm | final hold-out accuracy, % at each lr tried (the chosen lr in bold: the best, the smaller on a tie) |', '|---|---|'];
  for (const arm of ARMS) {
    const scored = triedLrs(records, arm);
    if (scored.length === 0) continue;
    const best = Math.max(...scored.map((s) => s.acc ?? -1));
    // The chosen lr: the best, the smaller one on a tie.
    const chosen = scored.findIndex((s) => s.acc === best);
    const cells = scored.map((s, i) => {
      const value = s.failed ? 'failed' : s.acc === null ? '-' : (100 * s.acc).toFixed(1);
      const text = `lr ${s.lr}: ${value}`;
      return i === chosen ? `**${text}**` : text;
    });
    lines.push(`| ${ARM_LABELS[arm]} | ${cells.join(', ')} |`);
  }
  return lines.join('\n') + '\n';
}

function phaseMarkers(): PlotMarker[] {
  const markers: PlotMarker[] = [];
  let start = 0;
  FULL_SIZE.epochs.forEach((epochs, i) => {
    markers.push({ x: start + 0.5, label: PHASE_NAMES[i]!, color: '#999999' });
    start += epochs;
  });
  return markers;
}

function accuracyPlot(dataset: Dataset, summaries: readonly ArmSummary[], lrs: Record<string, string>, seeds: string): string {
  const target = DATASET_INFO[dataset].target;
  const epochs = FULL_SIZE.epochs.reduce((a, b) => a + b, 0);
  const series: PlotSeries[] = summaries.map((s) => ({
    name: `${ARM_LABELS[s.arm as Arm] ?? s.arm}, lr ${lrs[s.arm]}`,
    color: ARM_COLORS[s.arm as Arm],
    points: s.meanCurve.map((acc, i) => [i + 1, acc === null ? Number.NaN : 100 * acc] as const),
  }));
  series.push({ name: `target ${100 * target}%`, color: '#888888', dashed: true, points: [[0.5, 100 * target], [epochs + 0.5, 100 * target]] });
  const values = summaries.flatMap((s) => s.meanCurve).filter((v): v is number => v !== null);
  const low = Math.max(0, Math.floor(Math.min(...values, target) * 10) * 10);
  return renderChart({
    title: `${DATASET_INFO[dataset].label}: hold-out accuracy of the trained head, each arm at its tuned lr, mean of seeds ${seeds}`,
    width: 760,
    height: 440,
    x: { title: 'epoch (across phases; p1 epochs use the proxy head)', domain: [0.5, epochs + 0.5] },
    y: { title: 'hold-out accuracy, %', domain: [low, 100] },
    series,
    markers: phaseMarkers(),
    legend: 'below',
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { tune: { type: 'string' }, out: { type: 'string' } } });
  if (positionals.length === 0) throw new Error('usage: npx tsx scripts/experiment-report.ts EVAL_SWEEP_DIR... [--tune DIR,DIR] [--out docs/experiments]');
  const out = path.resolve(values.out ?? 'docs/experiments');
  await fs.mkdir(out, { recursive: true });
  const tuneDirs =
    values.tune?.split(',').filter((d) => d !== '') ??
    positionals.flatMap((d) => [`${d.replace(/\/$/, '')}-tune`, `${d.replace(/\/$/, '')}-tune-edge`]).filter((d) => existsSync(path.join(d, 'sweep.json')));

  const tuneRecords = new Map<Dataset, SweepRecord[]>();
  for (const dir of tuneDirs) {
    const record = await readSweep(path.resolve(dir));
    const list = tuneRecords.get(datasetOf(record)) ?? [];
    list.push(record);
    tuneRecords.set(datasetOf(record), list);
  }
  const tuning = [...tuneRecords].map(([dataset, records]) => tuningTable(dataset, records));
  const tuned: Record<string, { grid: Record<string, Record<string, number | null>> }> = {};
  for (const [dataset, records] of tuneRecords) {
    tuned[dataset] = { grid: Object.fromEntries(ARMS.map((arm) => [arm, Object.fromEntries(triedLrs(records, arm).map((t) => [t.lr, t.acc]))])) };
  }

  const all: RunResult[] = [];
  const tables: string[] = [];
  const datasets: Record<string, unknown> = {};
  let seedsText = '';
  for (const dir of positionals) {
    const record = await readSweep(path.resolve(dir));
    const dataset = datasetOf(record);
    const runs = await runsOf(path.resolve(dir), record);
    all.push(...runs);
    const summaries = summarize(runs);
    const lrs = Object.fromEntries(record.arms.map((arm) => [arm.name, record.configs.find((c) => c.arm === arm.name)?.set.lr ?? '?']));
    const labels = Object.fromEntries(ARMS.map((arm) => [arm, `${ARM_LABELS[arm]}, lr ${lrs[arm]}`]));
    seedsText = [...new Set(record.trials.map((t) => t.seed))].join(', ');
    const target = DATASET_INFO[dataset].target;
    tables.push(`### ${DATASET_INFO[dataset].label} (target ${100 * target}%), seeds ${seedsText}\n\n${markdownTable(summaries, labels, target)}`);
    await fs.writeFile(path.join(out, `${dataset}-accuracy.svg`), accuracyPlot(dataset, summaries, lrs, seedsText));
    datasets[dataset] = {
      label: DATASET_INFO[dataset].label,
      target,
      sweep: { id: record.id, created: record.createdAt },
      arms: Object.fromEntries(summaries.map((s) => [s.arm, { label: ARM_LABELS[s.arm as Arm], lr: lrs[s.arm], runs: s.runs, finalValAcc: s.finalValAcc, epochToTarget: s.epochToTarget, reachedTarget: s.reachedTarget, trainSeconds: s.trainSeconds, meanCurve: s.meanCurve, tuning: tuned[dataset]?.grid[s.arm] ?? null }])),
    };
  }
  await fs.writeFile(path.join(out, 'tuning.md'), tuning.join('\n'));
  await fs.writeFile(path.join(out, 'table.md'), tables.join('\n'));
  await fs.writeFile(path.join(out, 'results.csv'), resultsCsv(all));
  await fs.writeFile(path.join(out, 'epochs.csv'), epochsCsv(all));
  const cpus = os.cpus();
  const summary = {
    generatedBy: 'scripts/experiment-report.ts from the sweep folders of docs/experiments/*.sweep',
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, platform: `${os.platform()} ${os.release()}`, node: process.version },
    size: FULL_SIZE,
    datasets,
  };
  await fs.writeFile(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(`${tuning.join('\n')}\n${tables.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
