// Gradient kernels on wasm before and after mono's kernels, side by side.
// Run: node --import tsx bench/kernels.ts   (tsx ships in node_modules here)
// "before" is tfjs-backend-wasm as shipped where it works, else the cpu backend.
// Then: a conv forward + backward step, single-threaded vs threaded wasm, in
// alternating child processes (a process picks its wasm binary once).
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import '@tensorflow/tfjs-backend-cpu';
import {
  batchNormTrain, registerTrainingGradients, registerWasmTrainingKernels, restoreShippedWasmKernels,
} from '../src/runtime/kernels/index.js';
import { initWasmBackend, wasmThreadInfo } from '../src/runtime/kernels/wasm-setup.js';

type Backend = 'wasm-shipped' | 'cpu' | 'wasm-mono';
type Inputs = Record<string, tf.Tensor>;

interface Case {
  name: string;
  before: Backend;
  inputs: () => Inputs;
  run: (xs: Inputs) => tf.Tensor | tf.Tensor[];
  /** What "before" runs, where it differs from `run` (e.g. mono's earlier composite). */
  runBefore?: (xs: Inputs) => tf.Tensor | tf.Tensor[];
}

const repeats = Number(process.env['BENCH_REPEATS'] ?? 5);

async function use(backend: Backend): Promise<void> {
  if (backend === 'cpu') {
    await tf.setBackend('cpu');
    return;
  }
  await initWasmBackend();
  if (backend === 'wasm-shipped') restoreShippedWasmKernels();
  else registerWasmTrainingKernels();
}

/** Median ms per call, after one warm-up call; the slow cpu backend runs once. */
function time(c: Case, backend: Backend, run = c.run): number {
  const xs = c.inputs();
  const once = (): number => {
    const start = performance.now();
    const out = run(xs);
    for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
    const ms = performance.now() - start;
    tf.dispose(out);
    return ms;
  };
  if (backend === 'cpu') {
    const ms = once();
    tf.dispose(Object.values(xs));
    return ms;
  }
  once();
  const samples = Array.from({ length: repeats }, once).sort((a, b) => a - b);
  tf.dispose(Object.values(xs));
  return samples[Math.floor(samples.length / 2)]!;
}

const x = (): tf.Tensor4D => tf.randomNormal([64, 32, 32, 16]);
const kernel = (name: string, inputs: Inputs, attrs: object): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
const bnLoss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
  const { mean, variance } = tf.moments(a, [0, 1, 2]);
  return tf.sum(tf.batchNorm(a, mean, variance, b, g, 1e-3));
};

const fusedBnLoss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
  tf.sum(batchNormTrain(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3).y);

const cases: Case[] = [
  {
    name: 'BatchNorm train grad (x,gamma,beta) [64,32,32,16]: composite -> fused batchNormTrain', before: 'wasm-mono',
    inputs: () => ({ x: x(), g: tf.ones([16]), b: tf.zeros([16]) }),
    runBefore: ({ x: a, g, b }) => tf.grads(bnLoss)([a!, g!, b!]),
    run: ({ x: a, g, b }) => tf.grads(fusedBnLoss)([a!, g!, b!]),
  },
  {
    name: 'BatchNorm grad (x,gamma,beta) [64,32,32,16]', before: 'cpu',
    inputs: () => ({ x: x(), g: tf.ones([16]), b: tf.zeros([16]) }),
    run: ({ x: a, g, b }) => tf.grads(bnLoss)([a!, g!, b!]),
  },
  {
    name: 'Tile [16] -> [64,32,32,16] (tfjs BN grad uses it)', before: 'wasm-shipped',
    inputs: () => ({ g: tf.ones([1, 1, 1, 16]) }),
    run: ({ g }) => tf.tile(g!, [64, 32, 32, 1]),
  },
  ...([[16, 1], [32, 2]] as const).flatMap(([outC, stride]): Case[] => [
    {
      name: `Conv2DBackpropFilter 3x3 16->${outC} s${stride} b64`, before: 'cpu',
      inputs: () => ({ x: x(), dy: tf.randomNormal([64, 32 / stride, 32 / stride, outC]) }),
      run: ({ x: a, dy }) => kernel(tf.Conv2DBackpropFilter, { x: a!, dy: dy! },
        { strides: stride, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, outC] }),
    },
    {
      name: `Conv2DBackpropInput 3x3 16->${outC} s${stride} b64`, before: 'wasm-shipped',
      inputs: () => ({ dy: tf.randomNormal([64, 32 / stride, 32 / stride, outC]), w: tf.randomNormal([3, 3, 16, outC]) }),
      run: ({ dy, w }) => kernel(tf.Conv2DBackpropInput, { dy: dy!, filter: w! },
        { strides: stride, pad: 'same', dataFormat: 'NHWC', inputShape: [64, 32, 32, 16] }),
    },
    {
      name: `conv2d forward 3x3 16->${outC} s${stride} b64 (reference)`, before: 'wasm-shipped',
      inputs: () => ({ x: x(), w: tf.randomNormal([3, 3, 16, outC]) }),
      run: ({ x: a, w }) => tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, stride, 'same'),
    },
  ]),
  {
    name: 'MaxPoolGrad 2x2 s2 [64,32,32,16]', before: 'wasm-shipped',
    inputs: () => { const a = x(); const y = tf.maxPool(a, 2, 2, 'valid'); return { x: a, y, dy: tf.randomNormal(y.shape) }; },
    run: ({ x: a, y, dy }) => kernel(tf.MaxPoolGrad, { dy: dy!, input: a!, output: y! }, { filterSize: 2, strides: 2, pad: 'valid' }),
  },
  {
    name: 'MaxPoolGrad 3x3 s2 same [64,32,32,16]', before: 'wasm-shipped',
    inputs: () => { const a = x(); const y = tf.maxPool(a, 3, 2, 'same'); return { x: a, y, dy: tf.randomNormal(y.shape) }; },
    run: ({ x: a, y, dy }) => kernel(tf.MaxPoolGrad, { dy: dy!, input: a!, output: y! }, { filterSize: 3, strides: 2, pad: 'same' }),
  },
  {
    name: 'AvgPoolGrad 2x2 s2 [64,32,32,16]', before: 'wasm-shipped',
    inputs: () => ({ x: x(), dy: tf.randomNormal([64, 16, 16, 16]) }),
    run: ({ x: a, dy }) => kernel(tf.AvgPoolGrad, { dy: dy!, input: a! }, { filterSize: 2, strides: 2, pad: 'valid' }),
  },
];

const CHILD_FLAG = '--conv-step-child';

/** Child: median ms of conv forward + both gradients, b64 [32,32,16] 3x3 16->16, on this process's wasm. */
async function convStepChild(): Promise<void> {
  await initWasmBackend();
  const c: Case = {
    name: 'conv step', before: 'wasm-mono',
    inputs: () => ({ x: x(), w: tf.randomNormal([3, 3, 16, 16]) }),
    run: ({ x: a, w }) => tf.grads((p: tf.Tensor, q: tf.Tensor) =>
      tf.sum(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same')))([a!, w!]),
  };
  console.log(JSON.stringify({ ms: time(c, 'wasm-mono'), threads: wasmThreadInfo().threads }));
}

function convStepIn(threads: '1' | 'auto'): { ms: number; threads: number } {
  const env = { ...process.env };
  if (threads === 'auto') delete env['MONO_WASM_THREADS'];
  else env['MONO_WASM_THREADS'] = threads;
  const out = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, CHILD_FLAG], { env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`conv step child failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { ms: number; threads: number };
}

function threadRows(): string[] {
  const single: number[] = [];
  const threaded: number[] = [];
  let threads = 0;
  for (let round = 0; round < 3; round++) {
    single.push(convStepIn('1').ms);
    const t = convStepIn('auto');
    threaded.push(t.ms);
    threads = t.threads;
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const [s, t] = [median(single), median(threaded)];
  return [`| conv2d fwd+bwd 3x3 16->16 s1 b64 | wasm 1 thread | ${s.toFixed(1)} | ${t.toFixed(1)} (${threads} threads) | ${(s / t).toFixed(2)}x |`];
}

if (process.argv.includes(CHILD_FLAG)) {
  await convStepChild();
  process.exit(0);
}

// The kernel table compares kernels at one thread; the threads row shows threading.
process.env['MONO_WASM_THREADS'] ??= '0';
// BENCH_ONLY=text keeps the rows whose name contains it.
const only = process.env['BENCH_ONLY'] ?? '';
registerTrainingGradients();
const rows: string[] = [];
for (const c of cases.filter((k) => k.name.includes(only))) {
  await use(c.before);
  let before: number | undefined;
  try {
    before = time(c, c.before, c.runBefore);
  } catch (e) {
    before = undefined;
    console.error(`${c.name}: before failed: ${(e as Error).message}`);
  }
  await use('wasm-mono');
  const after = time(c, 'wasm-mono');
  const speedUp = before === undefined ? 'n/a' : `${(before / after).toFixed(1)}x`;
  rows.push(`| ${c.name} | ${c.before} | ${before?.toFixed(1) ?? 'fails'} | ${after.toFixed(1)} | ${speedUp} |`);
  console.log(rows[rows.length - 1]);
}
for (const row of 'conv2d fwd+bwd'.includes(only) ? threadRows() : []) {
  rows.push(row);
  console.log(row);
}
console.log(`\n| kernel | before on | before ms | mono wasm ms | speed-up |\n|---|---|---|---|---|\n${rows.join('\n')}`);
