/**
 * mono vs PyTorch on the same machine, same plan, same data order, same hyper-parameters
 * (npm run bench:vs-pytorch -- [options]; issue 10). mono trains in this process
 * through its own runtime; the same network rebuilt from mono's IR trains in PyTorch
 * in a child process (bench/pytorch_replica.py), alternating with mono.
 *
 *   step     per-step time of an end-to-end step (finetune all) and of the last partition's
 *            phase, batch 32 and 64, for monolithnet width=1 depth=1 and the quickstart;
 *            PyTorch with 1 thread, and 2 threads as a separate row (valid on a quiet machine only)
 *   recipe   the whole plan (quickstart by default): wall time and final hold-out accuracy, per seed,
 *            then mean and spread
 *   --check  parity: both train the plan (on a data limit, 1 epoch per phase by default) from
 *            mono's initial weights in mono's data order; per-step loss and per-phase weight
 *            differences. This is what shows the comparison is fair.
 *
 * Without PyTorch it says how to install it and exits 0 with nothing measured.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compilePlan } from '../src/compile.js';
import type { IR, PhaseSpec } from '../src/ir/types.js';
import { selectBackend } from '../src/runtime/backend.js';
import { loadData, DataUnavailableError, type LoadedData } from '../src/runtime/data/dataset.js';
import { compareLosses, compareWeights, median, summarize, type LossAgreement, type Summary, type WeightAgreement } from './pytorch/compare.js';
import { readWeights, unsupportedByReplica, writeExchange, writeSeed, writeWeights } from './pytorch/exchange.js';
import { monoStepper, runMonoCheck, runMonoRecipe } from './pytorch/mono-side.js';
import { findTorchPython, INSTALL_HINT, replicaEnv, ReplicaProcess } from './pytorch/python.js';

const USAGE = `usage: npm run bench:vs-pytorch -- [--only step|recipe] [--check] [--plan FILE] [--set NAME=VALUE ...]
    [--seeds 1,2,3] [--batches 32,64] [--rounds 3] [--steps 5] [--threads 1,2] [--recipe-threads 1]
    [--init mono|torch|mono,torch|none] [--limit N] [--epochs N] [--data-seed N] [--bn-epsilon X]
    [--backend wasm|cpu] [--mono-threads N] [--torch-default-malloc] [--torch-only] [--json FILE] [--keep]`;

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    check: { type: 'boolean', default: false },
    plan: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    seeds: { type: 'string', default: '1,2,3' },
    batches: { type: 'string', default: '32,64' },
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    'recipe-threads': { type: 'string', default: '1' },
    init: { type: 'string', default: 'mono' },
    limit: { type: 'string' },
    epochs: { type: 'string' },
    'data-seed': { type: 'string' },
    'bn-epsilon': { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    'mono-threads': { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'torch-default-malloc': { type: 'boolean', default: false },
    'torch-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const numbers = (text: string, what: string): number[] => {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`--${what}: '${text}' is not a comma-separated list of numbers`);
  return values;
};
const only = args.only;
if (only !== undefined && only !== 'step' && only !== 'recipe') throw new Error(`--only: '${only}' is not step or recipe\n${USAGE}`);
const seeds = numbers(args.seeds!, 'seeds');
const batches = numbers(args.batches!, 'batches');
const rounds = numbers(args.rounds!, 'rounds')[0]!;
const stepsPerRound = numbers(args.steps!, 'steps')[0]!;
const torchThreads = numbers(args.threads!, 'threads');
const recipeThreads = numbers(args['recipe-threads']!, 'recipe-threads');
// --init none: the recipe part runs mono only (its accuracy questions without PyTorch's runs).
const inits = args.init === 'none' ? [] : args.init!.split(',').map((s) => s.trim());
for (const init of inits) if (init !== 'mono' && init !== 'torch') throw new Error(`--init: '${init}' is not mono, torch or none`);
const parts = args.check ? ['check'] : only ? [only] : ['step', 'recipe'];

// ---------------------------------------------------------------- PyTorch present?

const python = findTorchPython();
if (!python.found) {
  console.log('mono vs PyTorch: PyTorch was not found, so nothing was measured.');
  for (const probe of python.probes) console.log(`  ${probe.python}: ${probe.problem}`);
  console.log(`To run this benchmark, ${INSTALL_HINT}.`);
  process.exit(0);
}

// ---------------------------------------------------------------- plans

interface PlanChoice {
  label: string;
  file: string;
  set: Record<string, string>;
}

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const QUICKSTART: PlanChoice = { label: 'quickstart', file: join(root, 'plans/quickstart.mono'), set: {} };
const MONOLITHNET: PlanChoice = { label: 'monolithnet width=1 depth=1', file: join(root, 'plans/monolithnet.mono'), set: { width: '1', depth: '1' } };

function chosenPlan(): PlanChoice | undefined {
  if (!args.plan) return undefined;
  const set = Object.fromEntries(
    args.set!.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--set ${pair}: expected NAME=VALUE`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const extra = Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ');
  return { label: `${args.plan}${extra ? ` ${extra}` : ''}`, file: resolve(args.plan), set };
}

const defaultPlans: Record<string, PlanChoice[]> = { step: [MONOLITHNET, QUICKSTART], recipe: [QUICKSTART], check: [QUICKSTART, MONOLITHNET] };

interface PreparedPlan {
  choice: PlanChoice;
  ir: IR;
  data: LoadedData;
  notes: string[];
  folder: string;
  /** end to end (finetune all, or one made up for a plan without it) and the last partition's phase, if any. */
  endToEnd: PhaseSpec;
  lastPartition?: PhaseSpec;
  seedsWritten: Set<number>;
}

function compile(choice: PlanChoice): IR {
  const compiled = compilePlan(readFileSync(choice.file, 'utf8'), choice.file, { set: choice.set });
  if (!compiled.ir) throw new Error(`${choice.file} does not compile: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
  return compiled.ir;
}

/** The IR changes asked for on the command line, the same for both sides. */
function applyOverrides(ir: IR, part: string, notes: string[]): IR {
  const copy = structuredClone(ir);
  const limit = args.limit ?? (part === 'check' ? '1280' : undefined);
  const epochs = args.epochs ?? (part === 'check' ? '1' : undefined);
  for (const [name, value] of [['limit', limit], ['epochs', epochs], ['data-seed', args['data-seed']], ['bn-epsilon', args['bn-epsilon']]] as const) {
    if (value !== undefined && !(Number(value) >= 0)) throw new Error(`--${name}: '${value}' is not a number >= 0`);
  }
  if (limit !== undefined) {
    copy.data.limit = Number(limit);
    notes.push(`data limit ${limit}`);
  }
  if (epochs !== undefined) {
    for (const phase of copy.phases) phase.epochs = Number(epochs);
    notes.push(`${epochs} epoch(s) per phase`);
  }
  if (args['data-seed'] !== undefined) {
    copy.data.seed = Number(args['data-seed']);
    notes.push(`hold-out split seed ${args['data-seed']}`);
  }
  if (args['bn-epsilon'] !== undefined) {
    const epsilon = Number(args['bn-epsilon']);
    for (const node of [...copy.nodes, ...copy.partitions.flatMap((p) => p.head?.nodes ?? [])]) if (node.op === 'batchnorm') node.attrs['epsilon'] = epsilon;
    notes.push(`BatchNorm epsilon ${epsilon}`);
  }
  return copy;
}

async function loadOrSubstitute(ir: IR, file: string, notes: string[]): Promise<LoadedData> {
  try {
    return await loadData(ir.data, { baseDir: dirname(file) });
  } catch (error) {
    if (!(error instanceof DataUnavailableError)) throw error;
    // Timing does not depend on the pixels; parity only needs both sides on the same ones.
    const [h, w, c] = ir.input.shape as [number, number, number];
    const holdout = Math.min(ir.data.holdout, 500);
    const examples = (ir.data.limit > 0 ? ir.data.limit : 2000) + holdout;
    const original = ir.data.source.type;
    ir.data.source = { type: 'synthetic', examples, classes: ir.classes, shape: [h, w, c], noise: 0.5 };
    ir.data.holdout = holdout;
    // Synthetic data has no test split of its own.
    delete ir.data.test;
    notes.push(`${ir.data.source.type} data (${examples} examples of ${h}x${w}x${c}, ${holdout} held out) in place of the plan's ${original}, which is not on this machine`);
    return loadData(ir.data);
  }
}

function timingPhases(ir: IR): { endToEnd: PhaseSpec; lastPartition?: PhaseSpec } {
  const lastName = ir.partitions[ir.partitions.length - 1]!.name;
  const finetune = ir.phases.find((p) => p.kind === 'finetune');
  const endToEnd: PhaseSpec = finetune ?? {
    ...ir.phases[0]!,
    name: 'end-to-end',
    kind: 'finetune',
    partition: null,
    frozen: [],
    trainable: ir.partitions.map((p) => p.name),
    head: 'network',
    lr: { type: 'constant' },
    momentum: { type: 'constant' },
  };
  const lastPartition = ir.phases.find((p) => p.kind === 'train' && p.partition === lastName);
  return { endToEnd, ...(lastPartition ? { lastPartition } : {}) };
}

async function prepare(choice: PlanChoice, part: string): Promise<PreparedPlan> {
  const notes: string[] = [];
  const ir = applyOverrides(compile(choice), part, notes);
  const unsupported = unsupportedByReplica(ir);
  if (unsupported) throw new Error(`${choice.label}: ${unsupported}`);
  const data = await loadOrSubstitute(ir, choice.file, notes);
  const folder = mkdtempSync(join(os.tmpdir(), 'mono-vs-pytorch-'));
  const { endToEnd, lastPartition } = timingPhases(ir);
  const extra = ir.phases.includes(endToEnd) ? [] : [endToEnd];
  writeExchange(folder, ir, data, extra);
  return { choice, ir, data, notes, folder, endToEnd, ...(lastPartition ? { lastPartition } : {}), seedsWritten: new Set() };
}

async function ensureSeed(plan: PreparedPlan, seed: number): Promise<void> {
  if (plan.seedsWritten.has(seed)) return;
  await writeSeed(plan.folder, plan.ir, plan.data.train.count, seed);
  plan.seedsWritten.add(seed);
}

// ---------------------------------------------------------------- output helpers

function table(headers: string[], rows: (string | number)[][]): string {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 1 : 0)} ms` : '-');
const pct = (value: number | null | undefined) => (value === null || value === undefined || !Number.isFinite(value) ? '-' : `${(value * 100).toFixed(2)}%`);
const sci = (value: number) => (value === 0 ? '0' : value.toExponential(1));
const spread = (s: Summary, format: (v: number) => string) => (s.n > 1 ? `${format(s.mean)} (${format(s.min)} to ${format(s.max)}, n=${s.n})` : format(s.mean));

// ---------------------------------------------------------------- the parts

interface TimeAnswer {
  ms: number[];
  threads: number;
}

interface TorchEpoch {
  phase: string;
  epoch: number;
  loss: number;
  acc: number;
  val_loss: number | null;
  val_acc: number | null;
  seconds: number;
}

interface RecipeAnswer {
  wall_s: number;
  epochs: TorchEpoch[];
  losses: number[];
  threads: number;
}

const report: Record<string, unknown> = {};

async function stepPart(replica: ReplicaProcess, plans: PreparedPlan[], monoThreads: number): Promise<void> {
  const rows: (string | number)[][] = [];
  const records: unknown[] = [];
  const seed = seeds[0]!;
  for (const plan of plans) {
    await ensureSeed(plan, seed);
    await replica.request({ cmd: 'load', folder: plan.folder });
    const phases: [string, PhaseSpec][] = [['end to end', plan.endToEnd]];
    if (plan.lastPartition) phases.push([`last partition (${plan.lastPartition.name})`, plan.lastPartition]);
    for (const batch of batches) {
      for (const [kind, phase] of phases) {
        const stepper = monoStepper(plan.ir, phase, batch, seed);
        await stepper.step();
        await stepper.step();
        const mono: number[] = [];
        const torch = new Map<number, number[]>(torchThreads.map((t) => [t, []]));
        for (let round = 0; round < rounds; round++) {
          for (let i = 0; i < stepsPerRound; i++) mono.push(await stepper.step());
          for (const threads of torchThreads) {
            const answer = await replica.request<TimeAnswer>({ cmd: 'time_steps', phase: phase.name, batch, steps: stepsPerRound, warmup: 2, threads, seed, init: 'mono' });
            torch.get(threads)!.push(...answer.ms);
          }
        }
        stepper.dispose();
        const monoMs = median(mono);
        const torchMs = torchThreads.map((t) => median(torch.get(t)!));
        rows.push([plan.choice.label, kind, batch, ms(monoMs), ...torchMs.map(ms), ...torchMs.map((t) => `${(monoMs / t).toFixed(2)}x`)]);
        records.push({
          plan: plan.choice.label, kind, phase: phase.name, batch,
          mono: { medianMs: monoMs, minMs: Math.min(...mono), steps: mono.length, threads: monoThreads },
          torch: Object.fromEntries(torchThreads.map((t, i) => [t, { medianMs: torchMs[i], minMs: Math.min(...torch.get(t)!), steps: torch.get(t)!.length }])),
        });
        console.log(`  ${plan.choice.label}, ${kind}, batch ${batch}: mono ${ms(monoMs)}, PyTorch ${torchThreads.map((t, i) => `${t}t ${ms(torchMs[i]!)}`).join(', ')}`);
      }
    }
  }
  console.log(`\nPer-step time, median of ${rounds} rounds x ${stepsPerRound} steps, mono and PyTorch alternating (mono: ${args.backend}, ${monoThreads} thread(s)):\n`);
  const threadHeaders = torchThreads.map((t) => `PyTorch ${t} thread${t > 1 ? 's' : ''}${t > 1 ? ' (quiet machine only)' : ''}`);
  console.log(table(['plan', 'step', 'batch', 'mono', ...threadHeaders, ...torchThreads.map((t) => `mono / PyTorch ${t}t`)], rows));
  report['step'] = records;
}

async function recipePart(replica: ReplicaProcess, plans: PreparedPlan[]): Promise<void> {
  const records: unknown[] = [];
  for (const plan of plans) {
    await replica.request({ cmd: 'load', folder: plan.folder });
    const monoRuns: { seed: number; wall: number; train: number; acc: number }[] = [];
    const torchRuns = new Map<string, { seed: number; wall: number; train: number; acc: number }[]>();
    for (const seed of seeds) {
      await ensureSeed(plan, seed);
      // --torch-only: the replica's accuracy questions (initialisation, epsilon, split) without mono's runs.
      const mono = args['torch-only'] ? undefined : await runMonoRecipe(plan.ir, plan.data, seed);
      if (mono) {
        const monoLast = mono.epochs[mono.epochs.length - 1]!;
        const monoTrain = mono.epochs.reduce((s, e) => s + e.seconds, 0);
        monoRuns.push({ seed, wall: mono.wallSeconds, train: monoTrain, acc: monoLast.val_acc ?? NaN });
        console.log(`  ${plan.choice.label}, seed ${seed}, mono: ${mono.wallSeconds.toFixed(1)} s wall, hold-out ${pct(monoLast.val_acc)}`);
        console.log(`    mono hold-out by epoch: ${trace(mono.epochs)}`);
      }
      const torchRecords: unknown[] = [];
      for (const init of inits) {
        for (const threads of recipeThreads) {
          const key = `init ${init}, ${threads} thread${threads > 1 ? 's' : ''}`;
          const answer = await replica.request<RecipeAnswer>({ cmd: 'recipe', seed, init, threads });
          const last = answer.epochs[answer.epochs.length - 1]!;
          const train = answer.epochs.reduce((s, e) => s + e.seconds, 0);
          if (!torchRuns.has(key)) torchRuns.set(key, []);
          torchRuns.get(key)!.push({ seed, wall: answer.wall_s, train, acc: last.val_acc ?? NaN });
          console.log(`    PyTorch ${key}: ${answer.wall_s.toFixed(1)} s wall, hold-out ${pct(last.val_acc)}`);
          console.log(`    PyTorch ${key} hold-out by epoch: ${trace(answer.epochs)}`);
          torchRecords.push({ init, threads, wallSeconds: answer.wall_s, trainSeconds: train, finalValAcc: last.val_acc, epochs: answer.epochs });
        }
      }
      const monoRecord = mono ? { wallSeconds: mono.wallSeconds, trainSeconds: mono.epochs.reduce((s, e) => s + e.seconds, 0), finalValAcc: mono.epochs[mono.epochs.length - 1]!.val_acc, epochs: mono.epochs } : null;
      records.push({ plan: plan.choice.label, seed, notes: plan.notes, mono: monoRecord, torch: torchRecords });
    }
    const rows: string[][] = [];
    const row = (label: string, runs: { wall: number; train: number; acc: number }[]) => {
      rows.push([label, spread(summarize(runs.map((r) => r.wall)), (v) => `${v.toFixed(1)} s`), spread(summarize(runs.map((r) => r.train)), (v) => `${v.toFixed(1)} s`), spread(summarize(runs.map((r) => r.acc)), (v) => pct(v))]);
    };
    if (monoRuns.length > 0) row(`mono (${args.backend})`, monoRuns);
    for (const [key, runs] of torchRuns) row(`PyTorch, ${key}`, runs);
    console.log(`\nThe whole recipe, ${plan.choice.label}${plan.notes.length ? ` (${plan.notes.join(', ')})` : ''}, seeds ${seeds.join(', ')}: mean (min to max)\n`);
    console.log(table(['run', 'wall time', 'training steps only', 'final hold-out accuracy'], rows));
  }
  report['recipe'] = records;
}

function trace(epochs: readonly { phase: string; epoch: number; val_acc: number | null }[]): string {
  return epochs.map((e) => `${e.phase}.${e.epoch} ${pct(e.val_acc)}`).join(', ');
}

interface PhaseAgreement {
  phase: string;
  loss: LossAgreement;
  weights: WeightAgreement;
  valAcc: { mono: number | null; torch: number | null };
  valLoss: { mono: number | null; torch: number | null };
}

async function checkPart(replica: ReplicaProcess, plans: PreparedPlan[]): Promise<void> {
  const records: unknown[] = [];
  const seed = seeds[0]!;
  for (const plan of plans) {
    await ensureSeed(plan, seed);
    await replica.request({ cmd: 'load', folder: plan.folder });
    console.log(`  ${plan.choice.label}: mono ...`);
    const mono = await runMonoCheck(plan.ir, plan.data, seed);
    const weightsFolder = join(plan.folder, `check-seed-${seed}`);
    mkdirSync(weightsFolder, { recursive: true });
    console.log(`  ${plan.choice.label}: PyTorch ...`);
    const torch = await replica.request<RecipeAnswer>({ cmd: 'recipe', seed, init: 'mono', threads: 1, losses: true, weightsFolder });
    const phases: PhaseAgreement[] = [];
    let offset = 0;
    for (const phase of plan.ir.phases) {
      const monoEpochs = mono.epochs.filter((e) => e.phase === phase.name);
      const torchEpochs = torch.epochs.filter((e) => e.phase === phase.name);
      const steps = Math.round(mono.losses.length / mono.epochs.length) * phase.epochs;
      const loss = compareLosses(mono.losses.slice(offset, offset + steps), torch.losses.slice(offset, offset + steps));
      offset += steps;
      // The tensors this phase changes: its trained partitions' (BatchNorm statistics too) and its proxy head's.
      const headName = phase.head === 'proxy' ? plan.ir.partitions.find((p) => p.name === phase.partition)?.head?.name : undefined;
      const changed = new Set(plan.ir.parameters.filter((p) => phase.trainable.includes(p.partition) && (p.head === undefined || p.head === headName)).map((p) => p.name));
      const monoWeights = mono.weights.get(phase.name)!;
      writeWeights(weightsFolder, `mono-after-${phase.name}`, monoWeights);
      const weights = compareWeights(monoWeights.filter((w) => changed.has(w.name)), readWeights(weightsFolder, `after-${phase.name}`));
      const lastMono = monoEpochs[monoEpochs.length - 1]!;
      const lastTorch = torchEpochs[torchEpochs.length - 1]!;
      phases.push({ phase: phase.name, loss, weights, valAcc: { mono: lastMono.val_acc, torch: lastTorch.val_acc }, valLoss: { mono: lastMono.val_loss, torch: lastTorch.val_loss } });
    }
    const rows = phases.map((p) => [
      p.phase, p.loss.steps, sci(p.loss.first), sci(p.loss.firstTen), `${sci(p.loss.max)} (step ${p.loss.maxAt})`,
      `${sci(p.weights.max)} (${p.weights.tensor})`, sci(p.weights.median),
      `${pct(p.valAcc.mono)} / ${pct(p.valAcc.torch)}`,
    ]);
    console.log(`\nParity, ${plan.choice.label} (${plan.notes.join(', ')}; seed ${seed}; backend ${args.backend}; PyTorch from mono's initial weights, in mono's data order):\n`);
    console.log(table(['phase', 'steps', 'loss rel. diff, step 1', 'max over steps 1-10', 'max over the phase', 'weights of the phase at its end, max rel. diff', 'median over its tensors', 'hold-out acc mono / PyTorch'], rows));
    records.push({ plan: plan.choice.label, notes: plan.notes, seed, phases, monoLosses: mono.losses, torchLosses: torch.losses });
  }
  report['check'] = records;
}

// ---------------------------------------------------------------- main

if (args['mono-threads'] !== undefined) process.env['MONO_WASM_THREADS'] = args['mono-threads'];
const backend = await selectBackend({ force: args.backend! });
const load = os.loadavg();
console.log(`mono vs PyTorch: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average ${load.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`  mono: tfjs ${tf.version_core}, backend ${backend.name}, ${backend.threads} thread(s); PyTorch ${python.found.torch} (${python.found.python})`);
if (load[0]! > 0.5 * os.availableParallelism()) console.log('  the machine is busy: timings are provisional; measure on a quiet machine.');
report['machine'] = { cpu: os.cpus()[0]?.model, cpus: os.availableParallelism(), loadStart: load, node: process.version };
report['mono'] = { backend: backend.name, threads: backend.threads, tfjs: tf.version_core };
report['options'] = args;

// --torch-default-malloc: PyTorch with glibc's default allocation behaviour (see replicaEnv).
const replica = new ReplicaProcess(python.found.python, args['torch-default-malloc'] ? { OMP_NUM_THREADS: '1', ...process.env } : replicaEnv());
const prepared: PreparedPlan[] = [];
try {
  const single = chosenPlan();
  for (const part of parts) {
    const plans: PreparedPlan[] = [];
    for (const choice of single ? [single] : defaultPlans[part]!) {
      const plan = await prepare(choice, part);
      prepared.push(plan);
      plans.push(plan);
      for (const note of plan.notes) console.log(`  ${choice.label}: ${note}`);
    }
    const info = await replica.request<{ torch: string; blas: string[] }>({ cmd: 'load', folder: plans[0]!.folder });
    if (!report['torch']) {
      report['torch'] = { python: python.found.python, ...info };
      const openblas = info.blas.some((path) => path.includes('openblas'));
      console.log(`  PyTorch BLAS: ${info.blas.join(', ') || 'none mapped'}${openblas ? '' : ' (not OpenBLAS: install libopenblas0-pthread, or PyTorch runs on the reference BLAS)'}`);
    }
    console.log(`\n== ${part} ==`);
    if (part === 'step') await stepPart(replica, plans, backend.threads);
    else if (part === 'recipe') await recipePart(replica, plans);
    else await checkPart(replica, plans);
  }
} catch (error) {
  // A plan the replica does not rebuild (an MI-driven schedule, LARS, ...) or a failed run: one message, no stack.
  console.error(`bench:vs-pytorch: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await replica.close();
  for (const plan of prepared) {
    if (args.keep) console.log(`exchange folder kept: ${plan.folder}`);
    else rmSync(plan.folder, { recursive: true, force: true });
  }
}
report['machine'] = { ...(report['machine'] as object), loadEnd: os.loadavg() };
if (args.json && !process.exitCode) {
  writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nfigures written to ${args.json}`);
}
