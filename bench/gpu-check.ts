/**
 * What scripts/gpu-check.sh runs on a machine with a GPU (bundled into one file with
 * esbuild by `scripts/gpu-check.sh --pack`, since that machine has no Node.js, no
 * network and no node_modules), or here from source:
 *
 *   node --import tsx bench/gpu-check.ts [--widths 1,4,10] [--backends webgpu,wasm] [--steps 3]
 *     [--batch 32] [--kernel-runs 10] [--epoch-width 4] [--epoch-backend webgpu] [--epoch-examples 10000]
 *     [--no-epoch] [--python PYTHON | --python none] [--torch-device cuda|cpu] [--json FILE]
 *
 * 1. mono doctor's report;
 * 2. the kernel checks of bench/kernel-checks.ts on webgpu against cpu (worst relative error, < 1e-4);
 * 3. the train-step benchmark: one end-to-end (finetune) step of plans/monolithnet.mono at depth=1
 *    and each width, on each backend: median step time, peak tensor bytes of a step (tf.profile),
 *    and the same net's step in PyTorch on CUDA (bench/pytorch_replica.py), with its ratio;
 * 4. one epoch of monolithnet at --epoch-width on synthetic CIFAR-shaped data through `mono run`.
 * Every figure also goes to --json FILE. Plans are read from MONO_ROOT/plans (default: the repository).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { main as monoMain } from '../src/cli/main.js';
import type { CommandIO } from '../src/cli/command.js';
import { compilePlan } from '../src/compile.js';
import type { IR, PhaseSpec } from '../src/ir/types.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { selectBackend, type ActiveBackend } from '../src/runtime/backend.js';
import { loadData } from '../src/runtime/data/dataset.js';
import { Network } from '../src/runtime/graph.js';
import { Rng } from '../src/runtime/rng.js';
import { baseMomentum, gradientOptimizer, optimizedParams, phaseGraph, trainStep } from '../src/runtime/step.js';
import { KERNEL_TOLERANCE, runKernelChecks } from './kernel-checks.js';
import { writeExchange } from './pytorch/exchange.js';
import { probePython, ReplicaProcess } from './pytorch/python.js';

const { values: args } = parseArgs({
  options: {
    widths: { type: 'string', default: '1,4,10' },
    backends: { type: 'string', default: 'webgpu,wasm' },
    steps: { type: 'string', default: '3' },
    batch: { type: 'string', default: '32' },
    'kernel-runs': { type: 'string', default: '10' },
    'epoch-width': { type: 'string', default: '4' },
    'epoch-backend': { type: 'string', default: 'webgpu' },
    'epoch-examples': { type: 'string', default: '10000' },
    'no-epoch': { type: 'boolean', default: false },
    python: { type: 'string', default: 'python3' },
    'torch-device': { type: 'string', default: 'cuda' },
    json: { type: 'string' },
  },
});

const ROOT = process.env['MONO_ROOT'] ?? fileURLToPath(new URL('..', import.meta.url));
const widths = args.widths!.split(',').map(Number);
const backends = args.backends!.split(',').filter((b) => b !== '');
const steps = Number(args.steps);
const batch = Number(args.batch);
const report: Record<string, unknown> = { date: new Date().toISOString(), machine: `${os.cpus()[0]?.model?.trim() ?? 'CPU'} x ${os.availableParallelism()}`, node: process.version };

function section(title: string): void {
  console.log(`\n== ${title}`);
}

/** Keeps what `mono` writes, and shows it unless `quiet`. */
class Tee extends Writable {
  text = '';
  constructor(private readonly quiet: boolean) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    if (!this.quiet) process.stdout.write(chunk);
    done();
  }
}

/** `mono ...` in this process; stdout kept (and shown unless `quiet`), stderr shown. */
async function mono(argv: string[], quiet = false): Promise<{ code: number; stdout: string }> {
  const stdout = new Tee(quiet);
  const io: CommandIO = { stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
  const code = await monoMain(argv, io);
  return { code, stdout: stdout.text };
}

/** plans/monolithnet.mono at `width`, depth 1, on synthetic CIFAR-shaped data (no download on that machine). */
function monolithnet(width: number, examples = 256): { source: string; ir: IR } {
  const text = readFileSync(path.join(ROOT, 'plans', 'monolithnet.mono'), 'utf8');
  // Synthetic data has no test split, and a tenth of it is held out (the plan holds out 5,000 of CIFAR-10's 50,000).
  const block = /data cifar10(?:\([^)]*\))? \{([^}]*)\}/.exec(text);
  if (!block) throw new Error('gpu-check: plans/monolithnet.mono has no `data cifar10 { ... }` block to replace by synthetic data');
  const settings = block[1]!
    .replace(/\n\s*holdout \d+/, `\n  holdout ${Math.max(1, Math.floor(examples / 10))}`)
    .replace(/\n\s*test true/, '');
  const source = text.replace(block[0], `data synthetic(examples: ${examples}, classes: 10, shape: [32, 32, 3], noise: 0.5) {${settings}}`);
  const compiled = compilePlan(source, 'monolithnet.mono', { set: { width: String(width), depth: '1' } });
  if (!compiled.ir) throw new Error(`gpu-check: monolithnet width=${width} does not compile: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
  return { source, ir: compiled.ir };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function endToEnd(ir: IR): PhaseSpec {
  return ir.phases.find((p) => p.kind === 'finetune') ?? { ...ir.phases[0]!, frozen: [], trainable: ir.partitions.map((p) => p.name), head: 'network' };
}

interface StepRow { backend: string; width: number; stepMs: number; examplesPerSecond: number; peakTensorBytes: number; maxRssBytes: number }

/** Median end-to-end step of monolithnet at `width` on the active backend, and a step's peak tensor bytes. */
async function timeSteps(backend: ActiveBackend, width: number): Promise<StepRow> {
  const { ir } = monolithnet(width);
  const phase = endToEnd(ir);
  const network = new Network(ir, new Rng(1));
  const graph = phaseGraph(network, phase);
  const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
  const rng = new Rng(2);
  const data = {
    images: Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal()),
    labels: Int32Array.from({ length: batch }, () => rng.int(10)),
    size: batch,
    shape: [32, 32, 3],
  };
  const hyper = { lr: gradientOptimizer(phase).lr, momentum: baseMomentum(gradientOptimizer(phase)) };
  const step = () => trainStep(network, graph, data, optimizer, hyper, () => rng.int(2 ** 31));
  try {
    const profile = await tf.profile(async () => void (await step()));
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      await step();
      times.push(performance.now() - started);
    }
    const stepMs = median(times);
    return { backend: backend.name, width, stepMs, examplesPerSecond: (batch / stepMs) * 1000, peakTensorBytes: profile.peakBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  } finally {
    optimizer.dispose();
    network.dispose();
  }
}

interface TorchRow { width: number; stepMs: number; peakBytes: number | null; gpu: string | null; torch: string }

/** The same step in PyTorch on --torch-device (CUDA), through bench/pytorch_replica.py; undefined (with the reason printed) without one. */
async function torchSteps(): Promise<TorchRow[] | undefined> {
  if (args.python === 'none') return undefined;
  const probe = probePython(args.python!);
  if (!probe.torch) {
    console.log(`PyTorch: not measured (${args.python}: ${probe.problem})`);
    return undefined;
  }
  const rows: TorchRow[] = [];
  const replica = new ReplicaProcess(args.python!);
  const folder = mkdtempSync(path.join(os.tmpdir(), 'mono-gpu-check-'));
  try {
    for (const width of widths) {
      const { ir } = monolithnet(width);
      const phase = endToEnd(ir);
      const data = await loadData(ir.data);
      const dir = path.join(folder, `w${width}`);
      writeExchange(dir, ir, data, ir.phases.includes(phase) ? [] : [phase]);
      await replica.request({ cmd: 'load', folder: dir });
      const answer = await replica.request<{ ms: number[]; gpu?: string; peak_bytes?: number }>({
        cmd: 'time_steps', phase: phase.name, batch, steps: Math.max(steps, 5), warmup: 2, threads: os.availableParallelism(), seed: 1, init: 'torch', device: args['torch-device'],
      });
      rows.push({ width, stepMs: median(answer.ms), peakBytes: answer.peak_bytes ?? null, gpu: answer.gpu ?? null, torch: probe.torch });
    }
  } catch (error) {
    console.log(`PyTorch on ${args['torch-device']}: failed: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    await replica.close();
    rmSync(folder, { recursive: true, force: true });
  }
  return rows;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

// ---------------------------------------------------------------- 1. doctor
section('mono doctor');
await mono(['doctor']);
report['doctor'] = JSON.parse((await mono(['doctor', '--json'], true)).stdout) as unknown;

// ---------------------------------------------------------------- 2. kernel checks
section(`kernel checks on webgpu against cpu (${args['kernel-runs']} random problems each, relative error < ${KERNEL_TOLERANCE})`);
let kernelsPass = false;
try {
  await selectBackend({ force: 'webgpu' });
  const results = await runKernelChecks('webgpu', Number(args['kernel-runs']), 1);
  for (const r of results) console.log(`${r.worst < KERNEL_TOLERANCE ? 'ok  ' : 'FAIL'} ${r.worst.toExponential(2).padStart(9)}  ${r.name}${r.worst < KERNEL_TOLERANCE ? '' : `  worst case ${JSON.stringify(r.worstCase)}`}`);
  kernelsPass = results.every((r) => r.worst < KERNEL_TOLERANCE);
  report['kernels'] = results;
} catch (error) {
  console.log(`not run: ${(error as Error).message}`);
  report['kernels'] = { error: (error as Error).message };
}

// ---------------------------------------------------------------- 3. train-step benchmark
section(`train step: monolithnet depth=1 end to end, batch ${batch}, median of ${steps} after a warm-up`);
const rows: StepRow[] = [];
const failures: string[] = [];
for (const name of backends) {
  let backend: ActiveBackend;
  try {
    backend = await selectBackend({ force: name });
  } catch (error) {
    console.log(`${name}: not available: ${(error as Error).message}`);
    continue;
  }
  for (const width of widths) {
    let row: StepRow;
    try {
      row = await timeSteps(backend, width);
    } catch (error) {
      console.log(`${name.padEnd(7)} width ${String(width).padStart(2)}: failed: ${(error as Error).message.split('\n')[0]}`);
      failures.push(`${name} width ${width}: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    rows.push(row);
    const on = backend.adapter ? backend.adapter.name : `${backend.threads} threads`;
    console.log(`${name.padEnd(7)} width ${String(width).padStart(2)}: ${row.stepMs.toFixed(1).padStart(9)} ms a step, ${row.examplesPerSecond.toFixed(1).padStart(8)} ex/s, peak tensors ${mib(row.peakTensorBytes)}, max RSS ${mib(row.maxRssBytes)} (${on})`);
  }
}
const torch = await torchSteps();
for (const t of torch ?? []) {
  const ratios = backends.map((b) => {
    const row = rows.find((r) => r.backend === b && r.width === t.width);
    return row ? `${b} / PyTorch ${(row.stepMs / t.stepMs).toFixed(1)}x` : '';
  }).filter((s) => s !== '');
  console.log(`PyTorch ${t.torch} ${args['torch-device']} width ${String(t.width).padStart(2)}: ${t.stepMs.toFixed(1).padStart(9)} ms a step${t.peakBytes !== null ? `, peak ${mib(t.peakBytes)}` : ''}${t.gpu ? ` on ${t.gpu}` : ''}; ${ratios.join(', ')}`);
}
for (const width of widths) {
  const webgpu = rows.find((r) => r.backend === 'webgpu' && r.width === width);
  const wasm = rows.find((r) => r.backend === 'wasm' && r.width === width);
  if (webgpu && wasm) console.log(`width ${width}: webgpu is ${(wasm.stepMs / webgpu.stepMs).toPrecision(2)}x as fast as wasm (goal at width 4 on a GPU: >= 20x)`);
}
report['steps'] = rows;
report['stepFailures'] = failures;
report['torch'] = torch ?? null;

// ---------------------------------------------------------------- 4. one epoch
if (!args['no-epoch']) {
  const width = Number(args['epoch-width']);
  const examples = Number(args['epoch-examples']);
  section(`one epoch: monolithnet width=${width} depth=1 (phase p1) on ${examples} synthetic CIFAR-shaped examples, ${args['epoch-backend']}`);
  const folder = mkdtempSync(path.join(os.tmpdir(), 'mono-gpu-epoch-'));
  try {
    const plan = path.join(folder, 'monolithnet-synthetic.mono');
    writeFileSync(plan, monolithnet(width, examples).source);
    const started = performance.now();
    const run = await mono(['run', plan, '--backend', args['epoch-backend']!, '--set', `width=${width}`, '--set', 'depth=1', '--max-epochs', '1', '--out', path.join(folder, 'run')]);
    const seconds = (performance.now() - started) / 1000;
    const metrics = run.code === 0 ? (JSON.parse(readFileSync(path.join(folder, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as Record<string, unknown>) : null;
    console.log(`exit ${run.code}; ${seconds.toFixed(1)} s wall clock; max RSS ${mib(process.resourceUsage().maxRSS * 1024)}`);
    report['epoch'] = { width, examples, backend: args['epoch-backend'], code: run.code, seconds, metrics };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

report['kernelsPass'] = kernelsPass;
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
console.log(`\ngpu-check: kernel checks ${kernelsPass ? 'passed' : 'FAILED or not run'}; ${failures.length === 0 ? 'every step timed' : `${failures.length} step benchmark(s) failed`}${args.json ? `; figures in ${args.json}` : ''}`);
process.exitCode = kernelsPass && failures.length === 0 ? 0 : 1;
