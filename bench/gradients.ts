// mono's gradient overrides against TensorFlow.js's own gradients, on wasm (issue 8, item 7).
// Run: npm run bench:gradients   (BENCH_REPEATS=n, default 7; BENCH_ONLY=text keeps matching rows)
//
// @tensorflow/tfjs registers tfjs's gradient for every kernel. For each case below the
// bench times forward + backward (tf.grads of sum(f(x) * w)) with tfjs's gradient of the
// case's kernels registered, then with mono's, alternating round by round (median ms).
// The forward pass is the same both ways, so the difference is the gradient's. A mono
// gradient stays registered (src/runtime/kernels/index.ts) only where it wins here.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import os from 'node:os';
import { candidateGradients } from '../src/runtime/kernels/index.js';
import { initWasmBackend } from '../src/runtime/kernels/wasm-setup.js';

process.env['MONO_WASM_THREADS'] ??= '0';
const repeats = Number(process.env['BENCH_REPEATS'] ?? 7);
const only = process.env['BENCH_ONLY'] ?? '';

// tfjs's gradients, as @tensorflow/tfjs registered them, before mono's overrides go in.
const tfjsGradients = new Map<string, tf.GradConfig | undefined>();
for (const config of candidateGradients) tfjsGradients.set(config.kernelName, tf.getGradient(config.kernelName));
await initWasmBackend();
const monoGradients = new Map(candidateGradients.map((c) => [c.kernelName, c]));

function use(kernels: readonly string[], which: 'tfjs' | 'mono'): void {
  for (const name of kernels) {
    const config = (which === 'tfjs' ? tfjsGradients : monoGradients).get(name);
    if (tf.getGradient(name) !== undefined) tf.unregisterGradient(name);
    if (config !== undefined) tf.registerGradient(config);
  }
}

interface Case {
  name: string;
  /** The kernels whose gradient the case swaps. */
  kernels: string[];
  inputs: () => tf.Tensor[];
  f: (...xs: tf.Tensor[]) => tf.Tensor;
}

const map = (shape = [64, 28, 28, 16]): tf.Tensor => tf.randomNormal(shape);
const allCases: Case[] = [
  { name: 'relu [64,28,28,16]', kernels: [tf.Relu], inputs: () => [map()], f: (x) => tf.relu(x!) },
  { name: 'add, same shape (residual) [64,28,28,16]', kernels: [tf.Add], inputs: () => [map(), map()], f: (a, b) => tf.add(a!, b!) },
  { name: 'add, bias [64,28,28,16] + [16]', kernels: [tf.Add], inputs: () => [map(), tf.randomNormal([16])], f: (a, b) => tf.add(a!, b!) },
  { name: 'mul, scalar [64,28,28,16]', kernels: [tf.Multiply], inputs: () => [map()], f: (a) => tf.mul(a!, 0.5) },
  { name: 'sub, same shape [64,28,28,16]', kernels: [tf.Sub], inputs: () => [map(), map()], f: (a, b) => tf.sub(a!, b!) },
  { name: 'global mean [64,7,7,64]', kernels: [tf.Mean], inputs: () => [map([64, 7, 7, 64])], f: (x) => tf.mean(x!, [1, 2]) },
  { name: 'global max [64,7,7,64]', kernels: [tf.Max], inputs: () => [map([64, 7, 7, 64])], f: (x) => tf.max(x!, [1, 2]) },
  { name: 'sum over channels [64,28,28,16]', kernels: [tf.Sum], inputs: () => [map()], f: (x) => tf.sum(x!, 3) },
  {
    name: 'conv2d 3x3 16->16 s1 same [64,28,28,16]', kernels: [tf.Conv2D],
    inputs: () => [map(), tf.randomNormal([3, 3, 16, 16])], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  },
  {
    name: 'conv2d 3x3 16->32 s2 same [64,28,28,16]', kernels: [tf.Conv2D],
    inputs: () => [map(), tf.randomNormal([3, 3, 16, 32])], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'),
  },
  { name: 'maxpool 2x2 s2 [64,28,28,16]', kernels: [tf.MaxPool], inputs: () => [map()], f: (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'same') },
  { name: 'avgpool 2x2 s2 [64,28,28,16]', kernels: [tf.AvgPool], inputs: () => [map()], f: (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid') },
  {
    name: 'matmul [64,64] x [64,10]', kernels: [tf.BatchMatMul],
    inputs: () => [tf.randomNormal([64, 64]), tf.randomNormal([64, 10])], f: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
  },
  { name: 'reshape (flatten) [64,7,7,64]', kernels: [tf.Reshape], inputs: () => [map([64, 7, 7, 64])], f: (x) => tf.reshape(x!, [64, -1]) },
  {
    name: 'batch norm, training (tf.moments + tf.batchNorm) [64,28,28,16]',
    kernels: [tf.FusedBatchNorm, tf.Mean, tf.SquaredDifference, tf.Sub, tf.Reshape],
    inputs: () => [map(), tf.ones([16]), tf.zeros([16])],
    f: (x, g, b) => {
      const { mean, variance } = tf.moments(x!, [0, 1, 2]);
      return tf.batchNorm(x!, mean, variance, b!, g!, 1e-3);
    },
  },
  {
    name: 'batch norm, inference (tf.batchNorm) [64,28,28,16]', kernels: [tf.FusedBatchNorm],
    inputs: () => [map(), tf.ones([16]), tf.zeros([16]), tf.zeros([16]), tf.ones([16])],
    f: (x, g, b, m, v) => tf.batchNorm(x!, m!, v!, b!, g!, 1e-3),
  },
  {
    name: 'softmax cross-entropy [64,10]', kernels: [tf.Softmax, tf.Sum, tf.Multiply, tf.Mean, tf.Neg, tf.Sub, tf.Exp, tf.Log, tf.Max],
    inputs: () => [tf.randomNormal([64, 10])],
    f: (logits) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(Int32Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10), logits!),
  },
  { name: 'leaky relu [64,28,28,16]', kernels: [tf.LeakyRelu], inputs: () => [map()], f: (x) => tf.leakyRelu(x!, 0.2) },
  { name: 'sigmoid [64,28,28,16]', kernels: [tf.Sigmoid], inputs: () => [map()], f: (x) => tf.sigmoid(x!) },
  { name: 'tanh [64,28,28,16]', kernels: [tf.Tanh], inputs: () => [map()], f: (x) => tf.tanh(x!) },
  { name: 'slice (crop) [64,28,28,16]', kernels: [tf.Slice], inputs: () => [map()], f: (x) => tf.slice(x!, [0, 0, 0, 0], [-1, 27, 27, -1]) },
];
const cases = allCases.filter((c) => c.kernels.some((k) => monoGradients.has(k)));

function timeOnce(c: Case, xs: tf.Tensor[], w: tf.Tensor): number {
  const started = performance.now();
  const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.f(...args), w)))(xs);
  for (const g of grads) g.dataSync();
  const ms = performance.now() - started;
  tf.dispose(grads);
  return ms;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
console.log(`mono gradients vs tfjs's on wasm (1 thread), ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; median of ${repeats} alternating rounds, ms of forward + backward\n`);
const rows: string[] = [];
for (const c of cases.filter((k) => k.name.includes(only))) {
  const swapped = c.kernels.filter((k) => monoGradients.has(k));
  const xs = c.inputs();
  const w = tf.tidy(() => tf.randomNormal(c.f(...xs).shape));
  const samples = { tfjs: [] as number[], mono: [] as number[] };
  for (const which of ['tfjs', 'mono'] as const) {
    use(swapped, which);
    timeOnce(c, xs, w);
  }
  for (let round = 0; round < repeats; round++) {
    // Each goes first in every other round: whichever runs second finds the heap warm.
    for (const which of round % 2 === 0 ? (['tfjs', 'mono'] as const) : (['mono', 'tfjs'] as const)) {
      use(swapped, which);
      samples[which].push(timeOnce(c, xs, w));
    }
  }
  tf.dispose([...xs, w]);
  const [t, m] = [median(samples.tfjs), median(samples.mono)];
  rows.push(`| ${c.name} | ${swapped.join(', ')} | ${t.toFixed(1)} | ${m.toFixed(1)} | ${(t / m).toFixed(2)}x |`);
  console.log(rows[rows.length - 1]);
}
use([...monoGradients.keys()], 'mono');
console.log(`\n| case | gradients swapped | tfjs's ms | mono's ms | tfjs / mono |\n|---|---|---:|---:|---:|\n${rows.join('\n')}`);
console.log(`\nload average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
