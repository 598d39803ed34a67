/**
 * The optimizer experiment (issue 4, item 7): one partitioned residual network
 * trained with five lr strategies (constant MSGD, annealed MSGD, MI-driven lr,
 * layer-wise MI lr, Adam) on MNIST digits and Fashion-MNIST, over several seeds.
 *
 *   npx tsx scripts/experiment.ts [--quick] [--datasets mnist,fashion] [--seeds 3]
 *                                 [--arms const,anneal,mi,layerwise,adam] [--jobs 3]
 *                                 [--out docs/experiments] [--runs runs/experiment] [--fresh]
 *
 * Each run is `mono run` of a generated plan (written to OUT/plans/) in a child
 * process under `nice`, single-threaded wasm, `--jobs` at a time. Run folders go
 * to --runs (checkpoints are big, so not into docs/); a finished run folder is
 * reused unless --fresh. Results: OUT/results.csv (one line per run),
 * OUT/epochs.csv (one line per epoch of every run), OUT/summary.json, OUT/table.md
 * and OUT/<dataset>-accuracy.svg (mean hold-out accuracy per epoch and arm).
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderChart, type MarkerSpec, type SeriesSpec } from '../src/plot/index.js';
import { FASHION_MNIST_DEBIAN_DIR } from '../src/runtime/data/idx-sources.js';
import {
  epochsCsv,
  markdownTable,
  parseMetrics,
  resultsCsv,
  runResult,
  summarize,
  type ArmSummary,
  type RunResult,
} from './experiment/aggregate.js';
import {
  ARM_LABELS,
  ARMS,
  DATASET_INFO,
  DATASETS,
  FULL_SIZE,
  LR,
  PHASE_NAMES,
  planText,
  QUICK_SIZE,
  type Arm,
  type Dataset,
  type ExperimentSize,
} from './experiment/plans.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(REPO, 'src', 'cli', 'main.ts');
const ARM_COLORS: Record<Arm, string> = { const: '#555555', anneal: '#1f77b4', mi: '#d62728', layerwise: '#ff7f0e', adam: '#2ca02c' };

interface Options {
  quick: boolean;
  datasets: Dataset[];
  arms: Arm[];
  seeds: number[];
  jobs: number;
  out: string;
  runs: string;
  fresh: boolean;
}

function listOption<T extends string>(value: string | undefined, all: readonly T[], name: string): T[] {
  if (value === undefined) return [...all];
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) if (!(all as readonly string[]).includes(item)) throw new Error(`--${name}: unknown '${item}' (choose from ${all.join(', ')})`);
  return items as T[];
}

function positiveInteger(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got '${value}'`);
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      datasets: { type: 'string' },
      arms: { type: 'string' },
      seeds: { type: 'string' },
      jobs: { type: 'string' },
      out: { type: 'string' },
      runs: { type: 'string' },
      fresh: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick ?? false;
  const seedCount = positiveInteger(values.seeds, quick ? 1 : 3, 'seeds');
  return {
    quick,
    datasets: listOption(values.datasets, DATASETS, 'datasets'),
    arms: listOption(values.arms, ARMS, 'arms'),
    seeds: Array.from({ length: seedCount }, (_, i) => i + 1),
    jobs: positiveInteger(values.jobs, 3, 'jobs'),
    out: path.resolve(values.out ?? (quick ? 'runs/experiment-quick/results' : 'docs/experiments')),
    runs: path.resolve(values.runs ?? (quick ? 'runs/experiment-quick' : 'runs/experiment')),
    fresh: values.fresh ?? false,
  };
}

interface Job {
  dataset: Dataset;
  arm: Arm;
  seed: number;
  planFile: string;
  runDir: string;
}

function totalEpochs(size: ExperimentSize): number {
  return size.epochs.reduce((a, b) => a + b, 0);
}

async function readMetrics(runDir: string): Promise<string | null> {
  try {
    return await fs.readFile(path.join(runDir, 'metrics.jsonl'), 'utf8');
  } catch {
    return null;
  }
}

/** Runs `mono run` for one job; resolves with the wall-clock seconds. */
function runMono(job: Job, logFile: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const args = ['-n', '10', process.execPath, '--import', 'tsx', CLI, 'run', job.planFile, '--out', job.runDir, '--seed', String(job.seed)];
    const child = spawn('nice', args, {
      cwd: REPO,
      env: { ...process.env, MONO_WASM_THREADS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      void fs.writeFile(logFile, Buffer.concat(chunks)).finally(() => {
        if (code === 0) resolve((performance.now() - started) / 1000);
        else reject(new Error(`mono run ${job.planFile} --seed ${job.seed} exited ${code}; log: ${logFile}`));
      });
    });
  });
}

async function runJob(job: Job, size: ExperimentSize, fresh: boolean): Promise<RunResult> {
  const wanted = totalEpochs(size);
  const existing = fresh ? null : await readMetrics(job.runDir);
  let wallSeconds = 0;
  if (existing !== null && parseMetrics(existing).length === wanted) {
    const timing = await fs.readFile(path.join(job.runDir, 'wall-seconds.txt'), 'utf8').catch(() => '0');
    wallSeconds = Number(timing) || 0;
    console.log(`reuse ${path.relative(REPO, job.runDir)}`);
  } else {
    await fs.rm(job.runDir, { recursive: true, force: true });
    await fs.mkdir(path.dirname(job.runDir), { recursive: true });
    wallSeconds = await runMono(job, `${job.runDir}.log`);
    await fs.writeFile(path.join(job.runDir, 'wall-seconds.txt'), wallSeconds.toFixed(2));
  }
  const text = await readMetrics(job.runDir);
  if (text === null) throw new Error(`no metrics.jsonl in ${job.runDir}`);
  const epochs = parseMetrics(text);
  const result = runResult({ dataset: job.dataset, arm: job.arm, seed: job.seed, target: DATASET_INFO[job.dataset].target, wallSeconds }, epochs);
  const final = result.finalValAcc === null ? '-' : `${(100 * result.finalValAcc).toFixed(2)}%`;
  console.log(`${job.dataset} ${job.arm} seed ${job.seed}: final hold-out ${final}, target at epoch ${result.epochToTarget ?? 'never'}, ${wallSeconds.toFixed(0)} s wall`);
  return result;
}

/** Runs the jobs `jobs` at a time, keeping the results in job order. */
async function runAll(list: Job[], size: ExperimentSize, options: Options): Promise<RunResult[]> {
  const results: RunResult[] = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const index = next++;
      results[index] = await runJob(list[index]!, size, options.fresh);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.jobs, list.length) }, worker));
  return results;
}

function phaseMarkers(size: ExperimentSize): MarkerSpec[] {
  const markers: MarkerSpec[] = [];
  let start = 0;
  size.epochs.forEach((epochs, i) => {
    markers.push({ x: start + 0.5, label: PHASE_NAMES[i]!, color: '#999999' });
    start += epochs;
  });
  return markers;
}

function accuracyPlot(dataset: Dataset, summaries: readonly ArmSummary[], size: ExperimentSize, seeds: number): string {
  const target = DATASET_INFO[dataset].target;
  const epochs = totalEpochs(size);
  const series: SeriesSpec[] = summaries.map((s) => ({
    name: ARM_LABELS[s.arm as Arm] ?? s.arm,
    color: ARM_COLORS[s.arm as Arm],
    points: s.meanCurve.map((acc, i) => [i + 1, acc === null ? Number.NaN : 100 * acc] as const),
  }));
  series.push({ name: `target ${100 * target}%`, color: '#888888', dashed: true, points: [[0.5, 100 * target], [epochs + 0.5, 100 * target]] });
  const values = summaries.flatMap((s) => s.meanCurve).filter((v): v is number => v !== null);
  const low = Math.max(0, Math.floor(Math.min(...values, target) * 10) * 10);
  return renderChart({
    title: `${DATASET_INFO[dataset].label}: hold-out accuracy of the trained head, mean of ${seeds} seed${seeds === 1 ? '' : 's'}`,
    width: 760,
    height: 440,
    x: { title: 'epoch (across phases; p1 epochs use the proxy head)', domain: [0.5, epochs + 0.5] },
    y: { title: 'hold-out accuracy, %', domain: [low, 100] },
    series,
    markers: phaseMarkers(size),
    // Below the plot: inside, it covered the phase labels.
    legend: 'below',
  });
}

async function gitCommit(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', () => resolve(out.trim() || 'unknown'));
    child.on('error', () => resolve('unknown'));
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const size = options.quick ? QUICK_SIZE : FULL_SIZE;
  const notes: string[] = [];
  const datasets = options.datasets.filter((dataset) => {
    if (dataset === 'fashion' && !existsSync(FASHION_MNIST_DEBIAN_DIR)) {
      const note = `fashion: skipped, ${FASHION_MNIST_DEBIAN_DIR} not found (apt-get install dataset-fashion-mnist)`;
      console.log(note);
      notes.push(note);
      return false;
    }
    return true;
  });
  const planDir = path.join(options.out, 'plans');
  await fs.mkdir(planDir, { recursive: true });
  await fs.mkdir(options.runs, { recursive: true });

  const jobs: Job[] = [];
  for (const dataset of datasets) {
    for (const arm of options.arms) {
      const planFile = path.join(planDir, `${dataset}-${arm}.mono`);
      await fs.writeFile(planFile, planText(arm, dataset, size));
    }
  }
  // Seed-major order: every arm gets its first seed before any arm gets a second.
  for (const dataset of datasets) {
    for (const seed of options.seeds) {
      for (const arm of options.arms) {
        jobs.push({ dataset, arm, seed, planFile: path.join(planDir, `${dataset}-${arm}.mono`), runDir: path.join(options.runs, `${dataset}-${arm}-s${seed}`) });
      }
    }
  }
  const started = performance.now();
  console.log(`${jobs.length} runs, ${options.jobs} at a time, into ${path.relative(REPO, options.runs)}`);
  const results = await runAll(jobs, size, options);
  const wallMinutes = (performance.now() - started) / 60000;

  const summaries = summarize(results);
  const tables: string[] = [];
  for (const dataset of datasets) {
    const mine = summaries.filter((s) => s.dataset === dataset);
    const target = DATASET_INFO[dataset].target;
    tables.push(`### ${DATASET_INFO[dataset].label} (target ${100 * target}%)\n\n${markdownTable(mine, ARM_LABELS, target)}`);
    await fs.writeFile(path.join(options.out, `${dataset}-accuracy.svg`), accuracyPlot(dataset, mine, size, options.seeds.length));
  }
  await fs.writeFile(path.join(options.out, 'results.csv'), resultsCsv(results));
  await fs.writeFile(path.join(options.out, 'epochs.csv'), epochsCsv(results));
  await fs.writeFile(path.join(options.out, 'table.md'), tables.join('\n'));
  const cpus = os.cpus();
  const summary = {
    generatedBy: 'scripts/experiment.ts',
    commit: await gitCommit(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, platform: `${os.platform()} ${os.release()}`, node: process.version },
    shared: 'timings measured on a shared machine under load from other jobs (nice 10, single-threaded wasm, several runs at a time)',
    // This invocation (reused run folders take no time); the runs' own wall clock summed (3 ran at a time when measured).
    invocationWallMinutes: Number(wallMinutes.toFixed(1)),
    runsWallMinutesSummed: Number((results.reduce((sum, r) => sum + r.wallSeconds, 0) / 60).toFixed(1)),
    size,
    lr: LR,
    seeds: options.seeds,
    notes,
    datasets: Object.fromEntries(
      datasets.map((dataset) => [
        dataset,
        {
          label: DATASET_INFO[dataset].label,
          target: DATASET_INFO[dataset].target,
          arms: Object.fromEntries(
            summaries
              .filter((s) => s.dataset === dataset)
              .map((s) => [s.arm, { label: ARM_LABELS[s.arm as Arm], runs: s.runs, finalValAcc: s.finalValAcc, epochToTarget: s.epochToTarget, reachedTarget: s.reachedTarget, trainSeconds: s.trainSeconds, meanCurve: s.meanCurve }]),
          ),
        },
      ]),
    ),
  };
  await fs.writeFile(path.join(options.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(`\n${tables.join('\n')}`);
  console.log(`done in ${wallMinutes.toFixed(1)} min; results in ${path.relative(REPO, options.out)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
