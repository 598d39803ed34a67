/**
 * Where the time goes (issue 10, item 2): npm run bench:profile -- [options]
 *
 *   epoch  one epoch of a quickstart phase (finetune by default) through mono's Trainer,
 *          then what `mono run` does after it (metrics line, checkpoint, plots): kernel
 *          time by family, the optimizer update, data and augmentation, the rest of the
 *          step (tfjs and JS overhead), hold-out evaluation, MI, checkpoint, plots
 *   step   one end-to-end training step of monolithnet width=1 depth=1 (mean of --steps
 *          after 2 warm-up steps), same breakdown
 *
 * Kernels are timed by wrapping every registered kernel of the backend (bench/profile/
 * kernel-timer.ts); the optimizer's kernels are told apart by wrapping Optimizer.step,
 * MI by wrapping the trainer's MI method. Data and augmentation are timed on their own
 * (mono's epochBatches over the same split with the same Rng state), as the Trainer's
 * batch generator cannot be wrapped from outside.
 *
 * Options: --only epoch|step, --plan FILE [--set NAME=VALUE ...] (the epoch's plan),
 * --phase NAME, --limit N (training examples), --seed N, --batch N (step, default 32),
 * --steps N (default 5), --backend wasm|cpu, --mono-threads N, --json FILE.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compilePlan } from '../src/compile.js';
import type { IR, PhaseSpec } from '../src/ir/types.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { selectBackend } from '../src/runtime/backend.js';
import { planHash } from '../src/runtime/checkpoint.js';
import { saveCheckpoint } from '../src/runtime/session.js';
import { epochBatches } from '../src/runtime/data/batches.js';
import { loadData } from '../src/runtime/data/dataset.js';
import { Network } from '../src/runtime/graph.js';
import { Rng } from '../src/runtime/rng.js';
import { appendMetrics } from '../src/runtime/run-folder.js';
import { writeRunPlots } from '../src/runtime/run-plots.js';
import { baseMomentum, gradientOptimizer, optimizedParams, phaseGraph, trainStep } from '../src/runtime/step.js';
import { runRngs, Trainer, type EpochMetrics } from '../src/runtime/trainer.js';
import { kernelFamily, KernelTimer } from './profile/kernel-timer.js';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    plan: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    phase: { type: 'string' },
    limit: { type: 'string' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    'mono-threads': { type: 'string' },
    json: { type: 'string' },
  },
});

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const seed = Number(args.seed);
const parts = args.only ? [args.only] : ['epoch', 'step'];
for (const part of parts) if (part !== 'epoch' && part !== 'step') throw new Error(`--only: '${part}' is not epoch or step`);

function compile(file: string, set: Record<string, string>): IR {
  const compiled = compilePlan(readFileSync(file, 'utf8'), file, { set });
  if (!compiled.ir) throw new Error(`${file} does not compile: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
  return compiled.ir;
}

if (args['mono-threads'] !== undefined) process.env['MONO_WASM_THREADS'] = args['mono-threads'];
const backend = await selectBackend({ force: args.backend! });
const timer = new KernelTimer();
timer.install(tf.getBackend());

// The optimizer's kernels and the MI estimate, told apart from the rest of the step / evaluation.
const optimizerStep = Optimizer.prototype.step;
Optimizer.prototype.step = function (this: Optimizer, ...rest: Parameters<Optimizer['step']>) {
  return timer.within('optimizer update', () => optimizerStep.apply(this, rest));
};
const trainerProto = Trainer.prototype as unknown as { normalizedMi: (...a: unknown[]) => number };
const normalizedMi = trainerProto.normalizedMi;
let miMs = 0;
trainerProto.normalizedMi = function (this: unknown, ...rest: unknown[]) {
  const started = performance.now();
  try {
    return normalizedMi.apply(this, rest);
  } finally {
    miMs += performance.now() - started;
  }
};

interface Row {
  work: string;
  ms: number;
}

const report: Record<string, unknown> = {
  machine: { cpu: os.cpus()[0]?.model, cpus: os.availableParallelism(), loadStart: os.loadavg(), node: process.version },
  mono: { backend: backend.name, threads: backend.threads, tfjs: tf.version_core },
};

function familyRows(context: string): Row[] {
  const families = new Map<string, number>();
  for (const [kernel, totals] of timer.totals.get(context) ?? []) {
    const family = kernelFamily(kernel);
    families.set(family, (families.get(family) ?? 0) + totals.ms);
  }
  const order = [
    'conv forward', 'conv backprop input', 'conv backprop filter', 'BatchNorm kernels', 'pooling (forward and backward)',
    'reductions (BatchNorm moments, global pooling, loss, gradient sums)', 'dense (matmul)', 'elementwise and other kernels',
  ];
  return order.filter((f) => families.has(f)).map((f) => ({ work: f, ms: families.get(f)! }));
}

function topKernels(count: number): { context: string; kernel: string; calls: number; ms: number }[] {
  const all = [...timer.totals].flatMap(([context, kernels]) => [...kernels].map(([kernel, t]) => ({ context, kernel, calls: t.calls, ms: t.ms })));
  return all.sort((a, b) => b.ms - a.ms).slice(0, count);
}

function printTable(title: string, rows: Row[], unit: 'ms' | 's', per = 1): void {
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const value = (v: number) => (unit === 's' ? `${(v / 1000 / per).toFixed(2)} s` : `${(v / per).toFixed(1)} ms`);
  console.log(`\n${title}\n`);
  console.log('| work | time | share |');
  console.log('| --- | ---: | ---: |');
  for (const row of rows) console.log(`| ${row.work} | ${value(row.ms)} | ${((100 * row.ms) / total).toFixed(1)}% |`);
  console.log(`| **total** | **${value(total)}** | 100% |`);
}

function printTop(title: string, per = 1): void {
  console.log(`\n${title}\n`);
  console.log('| kernel | charged to | calls | time |');
  console.log('| --- | --- | ---: | ---: |');
  for (const k of topKernels(12)) console.log(`| ${k.kernel} | ${k.context} | ${Math.round(k.calls / per)} | ${(k.ms / per).toFixed(1)} ms |`);
  const nested = [...timer.nested].sort((a, b) => b[1].ms - a[1].ms).slice(0, 5);
  if (nested.length > 0) {
    console.log(`\nInside those (already counted in the outer kernel): ${nested.map(([key, t]) => `${key} ${(t.ms / per).toFixed(1)} ms (${Math.round(t.calls / per)} calls)`).join(', ')}`);
  }
}

// ---------------------------------------------------------------- one epoch through the Trainer

async function profileEpoch(): Promise<void> {
  const file = args.plan ? resolve(args.plan) : join(root, 'plans/quickstart.mono');
  const set = Object.fromEntries(args.set!.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  const ir = compile(file, set);
  if (args.limit !== undefined) ir.data.limit = Number(args.limit);
  const phaseIndex = args.phase ? ir.phases.findIndex((p) => p.name === args.phase) : Math.max(0, ir.phases.findIndex((p) => p.kind === 'finetune'));
  if (phaseIndex < 0) throw new Error(`--phase: the plan has no phase '${args.phase}' (it has ${ir.phases.map((p) => p.name).join(', ')})`);
  const phase = ir.phases[phaseIndex]!;
  const data = await loadData(ir.data, { baseDir: dirname(file) });
  const network = new Network(ir, runRngs(seed).init);
  const dir = mkdtempSync(join(os.tmpdir(), 'mono-profile-'));
  const rngs = runRngs(seed);
  // The same work as the Trainer's batch generator for this epoch, timed on its own.
  const dataStarted = performance.now();
  const dropLast = data.train.count >= ir.data.batch;
  let batches = 0;
  for (const b of epochBatches(data.train, { batch: ir.data.batch, shuffle: true, augment: ir.data.augment, rng: Rng.fromState(rngs.data.getState()), dropLast })) batches += b.size > 0 ? 1 : 0;
  const dataMs = performance.now() - dataStarted;

  timer.reset();
  miMs = 0;
  const wall: Record<string, number> = {};
  let started = 0;
  let stepsEnded = 0;
  const trainer = new Trainer({
    network,
    data,
    seed,
    hooks: {
      onBatch(progress) {
        if (progress.step === progress.steps) {
          stepsEnded = performance.now();
          timer.setContext('hold-out evaluation');
        }
      },
      async onEpoch(metrics, t): Promise<'stop'> {
        const evalEnded = performance.now();
        timer.setContext('checkpoint, metrics and plots');
        wall['steps'] = stepsEnded - started;
        wall['evaluation'] = evalEnded - stepsEnded;
        let at = performance.now();
        const metricsBytes = await appendMetrics(dir, metrics);
        wall['metrics line'] = performance.now() - at;
        at = performance.now();
        await saveCheckpoint(dir, { planHash: planHash(ir), metricsBytes, network, trainer: t });
        wall['checkpoint'] = performance.now() - at;
        // Plots of a whole run's metrics (one line per epoch of every phase), as at the end of `mono run`.
        const lines: EpochMetrics[] = ir.phases.flatMap((p) => Array.from({ length: p.epochs }, (_, e) => ({ ...metrics, phase: p.name, epoch: e + 1, epochs: p.epochs })));
        at = performance.now();
        await writeRunPlots(dir, lines);
        wall['plots'] = performance.now() - at;
        return 'stop';
      },
    },
  });
  trainer.setState({ phaseIndex, nextEpoch: 0, optimizer: null, schedules: null, rng: { data: rngs.data.getState(), dropout: rngs.dropout.getState() } });
  timer.setContext('training steps');
  started = performance.now();
  await trainer.run();
  timer.setContext('other');
  network.dispose();
  rmSync(dir, { recursive: true, force: true });

  const stepKernels = familyRows('training steps');
  const optimizerMs = timer.totalMs('optimizer update');
  const stepKernelMs = stepKernels.reduce((s, r) => s + r.ms, 0);
  const rows: Row[] = [
    ...stepKernels,
    { work: 'optimizer update (msgd kernels)', ms: optimizerMs },
    { work: 'data and augmentation (timed on its own)', ms: dataMs },
    { work: 'rest of the steps: tfjs tape and bookkeeping, JS, tensor upload', ms: Math.max(0, wall['steps']! - stepKernelMs - optimizerMs - dataMs) },
    { work: 'hold-out evaluation (trained head; in finetune also each partition own head)', ms: wall['evaluation']! - miMs },
    { work: 'MI of the hold-out predictions', ms: miMs },
    { work: 'metrics line', ms: wall['metrics line']! },
    { work: 'checkpoint (weights, optimizer slots, fsync)', ms: wall['checkpoint']! },
    { work: `plots (${ir.phases.reduce((s, p) => s + p.epochs, 0)} metrics lines)`, ms: wall['plots']! },
  ];
  const title = `One epoch of ${ir.plan} phase ${phase.name} (${data.train.count} training examples, ${batches} steps of ${ir.data.batch}; ${data.holdout.count} held out), backend ${backend.name} with ${backend.threads} thread(s):`;
  printTable(title, rows, 's');
  printTop('Largest kernels of that epoch:');
  report['epoch'] = { plan: ir.plan, phase: phase.name, trainExamples: data.train.count, steps: batches, rows, wallMs: wall, kernels: topKernels(40) };
}

// ---------------------------------------------------------------- one end-to-end step

async function profileStep(): Promise<void> {
  const ir = compile(join(root, 'plans/monolithnet.mono'), { width: '1', depth: '1' });
  const batch = Number(args.batch);
  const steps = Number(args.steps);
  const phase: PhaseSpec = ir.phases.find((p) => p.kind === 'finetune')!;
  const network = new Network(ir, runRngs(seed).init);
  const graph = phaseGraph(network, phase);
  const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
  const rng = new Rng(seed);
  const [h, w, c] = ir.input.shape as [number, number, number];
  const data = {
    images: Float32Array.from({ length: batch * h * w * c }, () => rng.normal()),
    labels: Int32Array.from({ length: batch }, () => rng.int(ir.classes)),
    size: batch,
    shape: [h, w, c] as [number, number, number],
  };
  const hyper = { lr: gradientOptimizer(phase).lr, momentum: baseMomentum(gradientOptimizer(phase)) };
  const step = () => trainStep(network, graph, data, optimizer, hyper, () => rng.int(2 ** 31));
  timer.setContext('warm-up');
  await step();
  await step();
  timer.reset();
  timer.setContext('training steps');
  const started = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const wallMs = performance.now() - started;
  timer.setContext('other');
  optimizer.dispose();
  network.dispose();
  const stepKernels = familyRows('training steps');
  const optimizerMs = timer.totalMs('optimizer update');
  const kernelMs = stepKernels.reduce((s, r) => s + r.ms, 0);
  const rows: Row[] = [
    ...stepKernels,
    { work: 'optimizer update (msgd kernels)', ms: optimizerMs },
    { work: 'rest of the step: tfjs tape and bookkeeping, JS, tensor upload', ms: Math.max(0, wallMs - kernelMs - optimizerMs) },
  ];
  printTable(`One end-to-end training step of monolithnet width=1 depth=1 (finetune, batch ${batch}; mean of ${steps} steps after 2 warm-up steps), backend ${backend.name} with ${backend.threads} thread(s):`, rows, 'ms', steps);
  printTop('Largest kernels of one step:', steps);
  report['step'] = { plan: 'monolithnet width=1 depth=1', batch, steps, rows: rows.map((r) => ({ work: r.work, ms: r.ms / steps })), kernels: topKernels(40).map((k) => ({ ...k, calls: k.calls / steps, ms: k.ms / steps })) };
}

console.log(`mono profile: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; tfjs ${tf.version_core}, backend ${backend.name}, ${backend.threads} thread(s)`);
try {
  for (const part of parts) {
    if (part === 'epoch') await profileEpoch();
    else await profileStep();
  }
} finally {
  timer.uninstall();
  Optimizer.prototype.step = optimizerStep;
  trainerProto.normalizedMi = normalizedMi;
}
report['machine'] = { ...(report['machine'] as object), loadEnd: os.loadavg() };
if (args.json) {
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nfigures written to ${args.json}`);
}
