/**
 * The convolution kernels of a training step, variant against variant, on the layer
 * shapes of monolithnet width=1 depth=1 and the quickstart (issue 10):
 *
 *   npm run bench:conv -- [--batches 32,64] [--rounds 7] [--only filter|input|forward|maxpool|step] [--plan monolithnet|quickstart] [--steps 5,6]
 *
 * For every shape, each variant of a kernel runs once per round, the order alternating
 * round by round, on the same inputs; the table gives each variant's median and the
 * ratio to the first ("before"), and the largest relative difference between the
 * variants' outputs. The last lines weigh each shape by how often a step of the plan
 * runs it (end-to-end step, finetune). Wasm with 1 thread unless MONO_WASM_THREADS says
 * otherwise. A benchmark, not a test: on a shared machine read the ratios, not the times.
 *
 * `maxpool`: MaxPoolGrad, mono's earlier JS pass against the SIMD kernel, on the
 * quickstart's max pooling (2x2, stride 2, 'same', 28x28x16) and a 3x3 stride-2 one.
 *
 * `step`: one training step of the plan(s), end to end (finetune) and of the last partition
 * (the others frozen), with mono's kernels switched
 * between the configurations below (`--steps 0,6`: only those, by position) step by step (alternating order, same batch), median
 * of --rounds steps per configuration after one warm-up step each.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { conv2dBackpropFilterSimd, conv2dBackpropFilterViaForwardConv } from '../src/runtime/kernels/conv2d-backprop-filter.js';
import { conv2dBackpropInputByPhases, conv2dBackpropInputViaForwardConv } from '../src/runtime/kernels/conv2d-backprop-input.js';
import { explicitSamePaddingKernel } from '../src/runtime/kernels/explicit-same-padding.js';
import { maxPoolBackprop, poolGeometry } from '../src/runtime/kernels/pool-grads.js';
import { initWasmBackend } from '../src/runtime/kernels/wasm-setup.js';
import { readFileSync } from 'node:fs';
import { compilePlan } from '../src/compile.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { Network } from '../src/runtime/graph.js';
import { Rng } from '../src/runtime/rng.js';
import { baseMomentum, gradientOptimizer, optimizedParams, phaseGraph, trainStep } from '../src/runtime/step.js';
import { runRngs } from '../src/runtime/trainer.js';

// tfjs's own Conv2D (XNNPACK), taken before mono registers its kernels: the "before"
// variants dispatch their inner convolutions to it, the others to mono's.
const shippedConv2d = explicitSamePaddingKernel(tf.getKernel(tf.Conv2D, 'wasm')!);
const shippedIdentity = tf.getKernel(tf.Identity, 'wasm')!;
const shippedBatchNorm = tf.getKernel(tf.FusedBatchNorm, 'wasm')!;

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '32,64' },
    rounds: { type: 'string', default: '7' },
    steps: { type: 'string' },
    only: { type: 'string' },
    plan: { type: 'string' },
  },
});

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid';

/** One conv layer of a plan: input [h, w, inC], filter size, outC, stride; `calls` per end-to-end step. */
interface Layer { plan: string; h: number; w: number; inC: number; k: number; outC: number; stride: number; pad: Pad; calls: number; needsDx: boolean }

// From a dump of the kernels one finetune step dispatches (every conv is 'same').
const layers: Layer[] = [
  { plan: 'monolithnet', h: 32, w: 32, inC: 3, k: 3, outC: 16, stride: 1, pad: 'same', calls: 1, needsDx: false },
  { plan: 'monolithnet', h: 32, w: 32, inC: 16, k: 3, outC: 16, stride: 1, pad: 'same', calls: 2, needsDx: true },
  { plan: 'monolithnet', h: 32, w: 32, inC: 16, k: 3, outC: 32, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'monolithnet', h: 32, w: 32, inC: 16, k: 1, outC: 32, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'monolithnet', h: 16, w: 16, inC: 32, k: 3, outC: 32, stride: 1, pad: 'same', calls: 1, needsDx: true },
  { plan: 'monolithnet', h: 16, w: 16, inC: 32, k: 3, outC: 64, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'monolithnet', h: 16, w: 16, inC: 32, k: 1, outC: 64, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'monolithnet', h: 8, w: 8, inC: 64, k: 3, outC: 64, stride: 1, pad: 'same', calls: 1, needsDx: true },
  { plan: 'quickstart', h: 28, w: 28, inC: 1, k: 3, outC: 16, stride: 1, pad: 'same', calls: 1, needsDx: false },
  { plan: 'quickstart', h: 14, w: 14, inC: 16, k: 3, outC: 16, stride: 1, pad: 'same', calls: 2, needsDx: true },
  { plan: 'quickstart', h: 14, w: 14, inC: 16, k: 3, outC: 32, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'quickstart', h: 14, w: 14, inC: 16, k: 1, outC: 32, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'quickstart', h: 7, w: 7, inC: 32, k: 3, outC: 32, stride: 1, pad: 'same', calls: 1, needsDx: true },
  { plan: 'quickstart', h: 7, w: 7, inC: 32, k: 3, outC: 64, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'quickstart', h: 7, w: 7, inC: 32, k: 1, outC: 64, stride: 2, pad: 'same', calls: 1, needsDx: true },
  { plan: 'quickstart', h: 4, w: 4, inC: 64, k: 3, outC: 64, stride: 1, pad: 'same', calls: 1, needsDx: true },
];

type Variant = (backend: BackendWasm, t: Record<string, tf.TensorInfo>, layer: Layer, batch: number) => tf.TensorInfo;
interface KernelBench {
  kernel: 'filter' | 'input' | 'forward';
  variants: Record<string, Variant>;
  /** Variants whose inner Conv2D dispatches go to tfjs's XNNPACK kernel (the rest: mono's registered one). */
  xnnpack: string[];
  applies: (l: Layer) => boolean;
}

const shapes = (l: Layer, batch: number) => {
  const xShape: Shape4 = [batch, l.h, l.w, l.inC];
  const filterShape: Shape4 = [l.k, l.k, l.inC, l.outC];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, l.stride, 1, l.pad);
  return { xShape, filterShape, dyShape: info.outShape };
};

const filterAttrs = (l: Layer, batch: number): tf.Conv2DBackpropFilterAttrs =>
  ({ strides: l.stride, pad: l.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: shapes(l, batch).filterShape });
const inputAttrs = (l: Layer, batch: number): tf.Conv2DBackpropInputAttrs =>
  ({ strides: l.stride, pad: l.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: shapes(l, batch).xShape });

const benches: KernelBench[] = [
  {
    kernel: 'filter',
    applies: () => true,
    xnnpack: ['XNNPACK conv + transposes (before)'],
    variants: {
      'XNNPACK conv + transposes (before)': (b, t, l, n) => conv2dBackpropFilterViaForwardConv(b, 'wasm', t['x']!, t['dy']!, filterAttrs(l, n)),
      'SIMD kernel, NHWC': (b, t, l, n) => conv2dBackpropFilterSimd(b, t['x']!, t['dy']!, filterAttrs(l, n))!,
    },
  },
  {
    kernel: 'input',
    applies: (l) => l.needsDx,
    xnnpack: ['XNNPACK conv, zeros inserted for stride 2 (before)', 'phase split'],
    variants: {
      'XNNPACK conv, zeros inserted for stride 2 (before)': (b, t, l, n) => conv2dBackpropInputViaForwardConv(b, 'wasm', t['dy']!, t['filter']!, inputAttrs(l, n)),
      'phase split': (b, t, l, n) => conv2dBackpropInputByPhases(b, t['dy']!, t['filter']!, inputAttrs(l, n))!,
      'phase split, convolutions on onnxruntime': (b, t, l, n) => conv2dBackpropInputByPhases(b, t['dy']!, t['filter']!, inputAttrs(l, n))!,
    },
  },
  {
    kernel: 'forward',
    applies: () => true,
    xnnpack: ['XNNPACK Conv2D (the shipped kernel, before)'],
    variants: {
      'XNNPACK Conv2D (the shipped kernel, before)': (b, t, l) => runConv2d(b, t, l),
      'onnxruntime Conv2D': (b, t, l) => runConv2d(b, t, l),
    },
  },
];

/** The Conv2D registered now (dispatchConv2dTo picks XNNPACK or mono's) on the layer's x and filter. */
function runConv2d(b: BackendWasm, t: Record<string, tf.TensorInfo>, l: Layer): tf.TensorInfo {
  return tf.getKernel(tf.Conv2D, 'wasm')!.kernelFunc({ backend: b, inputs: { x: t['x']!, filter: t['filter']! },
    attrs: { strides: l.stride, pad: l.pad, dataFormat: 'NHWC', dilations: 1 } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function relativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(a[i]!));
  }
  return ref === 0 ? diff : diff / ref;
}

await initWasmBackend();
const backend = tf.backend() as BackendWasm;
const monoConv2d = tf.getKernel(tf.Conv2D, 'wasm')!;
function dispatchConv2dTo(config: tf.KernelConfig): void {
  if (tf.getKernel(tf.Conv2D, 'wasm') === config) return;
  tf.unregisterKernel(tf.Conv2D, 'wasm');
  tf.registerKernel(config);
}
const batches = args.batches!.split(',').map(Number);
const rounds = Number(args.rounds);
const chosen = layers.filter((l) => args.plan === undefined || l.plan === args.plan);
console.log(`mono conv kernels: ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism()}, load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}; tfjs ${tf.version_core}, wasm, MONO_WASM_THREADS=${process.env['MONO_WASM_THREADS'] ?? 'default'}; median of ${rounds} rounds`);

for (const bench of benches) {
  if (args.only !== undefined && args.only !== bench.kernel) continue;
  const names = Object.keys(bench.variants);
  console.log(`\n## ${bench.kernel}\n`);
  console.log(`| layer | batch | ${names.map((n) => `${n} ms`).join(' | ')} | ${names.slice(1).map((n) => `before / ${n}`).join(' | ')} | max rel. diff |`);
  console.log(`| --- | ---: | ${names.map(() => '---:').join(' | ')} | ${names.slice(1).map(() => '---:').join(' | ')} | ---: |`);
  const perStep = new Map<string, number[]>();
  for (const batch of batches) {
    for (const layer of chosen.filter(bench.applies)) {
      const { xShape, filterShape, dyShape } = shapes(layer, batch);
      const tensors = { x: tf.randomNormal(xShape), dy: tf.randomNormal(dyShape), filter: tf.randomNormal(filterShape) };
      const infos = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dataId: t.dataId, shape: t.shape, dtype: t.dtype }]));
      const samples = names.map((): number[] => []);
      const outputs: Float32Array[] = [];
      for (let round = -1; round < rounds; round++) {
        const order = round % 2 === 0 ? names.map((_, i) => i) : names.map((_, i) => names.length - 1 - i);
        for (const i of order) {
          dispatchConv2dTo(bench.xnnpack.includes(names[i]!) ? shippedConv2d : monoConv2d);
          const started = performance.now();
          const out = bench.variants[names[i]!]!(backend, infos, layer, batch);
          const ms = performance.now() - started;
          if (round < 0) outputs[i] = (backend.readSync(out.dataId) as Float32Array).slice();
          else samples[i]!.push(ms);
          backend.disposeData(out.dataId);
        }
      }
      tf.dispose(Object.values(tensors));
      const medians = samples.map(median);
      const diff = Math.max(0, ...outputs.slice(1).map((o) => relativeDifference(outputs[0]!, o)));
      const label = `${layer.plan} ${layer.h}x${layer.w}x${layer.inC} ${layer.k}x${layer.k}->${layer.outC} s${layer.stride}`;
      console.log(`| ${label} | ${batch} | ${medians.map((m) => m.toFixed(2)).join(' | ')} | ${medians.slice(1).map((m) => `${(medians[0]! / m).toFixed(2)}x`).join(' | ')} | ${diff.toExponential(1)} |`);
      const key = `${layer.plan} batch ${batch}`;
      const sum = perStep.get(key) ?? names.map(() => 0);
      medians.forEach((m, i) => { sum[i]! += m * layer.calls; });
      perStep.set(key, sum);
    }
  }
  for (const [key, sums] of perStep) {
    console.log(`per end-to-end step, ${key}: ${names.map((n, i) => `${n} ${sums[i]!.toFixed(1)} ms`).join(', ')}${sums.length > 1 ? ` (${sums.slice(1).map((s) => `${(sums[0]! / s).toFixed(2)}x`).join(', ')})` : ''}`);
  }
}
// ---------------------------------------------------------------- end-to-end steps, kernel sets switched

function register(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm') === config) return;
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

async function benchSteps(): Promise<void> {
  const mono = [tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.Identity, tf.FusedBatchNorm, tf.MaxPoolGrad].map((name) => tf.getKernel(name, 'wasm')!);
  const [monoFilter, monoInput, monoIdentity, monoBatchNorm, monoMaxPoolGrad] = mono as [tf.KernelConfig, tf.KernelConfig, tf.KernelConfig, tf.KernelConfig, tf.KernelConfig];
  // mono's earlier MaxPoolGrad: the same rule as one JS pass over the wasm heap.
  const jsMaxPoolGrad: tf.KernelConfig = { ...monoMaxPoolGrad, kernelFunc: ({ inputs, backend: b, attrs }) => {
    const wasm = b as BackendWasm;
    const input = inputs['input']!;
    const out = wasm.makeOutput(input.shape, 'float32');
    maxPoolBackprop(poolGeometry(input.shape as Shape4, attrs as unknown as tf.MaxPoolGradAttrs), wasm.typedArrayFromHeap(input) as Float32Array,
      wasm.typedArrayFromHeap(inputs['dy']!) as Float32Array, wasm.typedArrayFromHeap(out) as Float32Array);
    return out;
  } };
  const xnnFilter: tf.KernelConfig = { ...monoFilter, kernelFunc: ({ inputs, backend: b, attrs }) =>
    conv2dBackpropFilterViaForwardConv(b as BackendWasm, 'wasm', inputs['x']!, inputs['dy']!, attrs as unknown as tf.Conv2DBackpropFilterAttrs) };
  const xnnInput: tf.KernelConfig = { ...monoInput, kernelFunc: ({ inputs, backend: b, attrs }) =>
    conv2dBackpropInputViaForwardConv(b as BackendWasm, 'wasm', inputs['dy']!, inputs['filter']!, attrs as unknown as tf.Conv2DBackpropInputAttrs) };
  // Each configuration names the kernels it registers; Conv2D is XNNPACK's but in the last.
  const steps: [string, tf.KernelConfig[]][] = [
    ['before (XNNPACK filter gradient, zeros inserted, copying Identity, shipped FusedBatchNorm, JS MaxPoolGrad)', [xnnFilter, xnnInput, shippedIdentity, shippedBatchNorm, jsMaxPoolGrad]],
    ['SIMD filter gradient', [monoFilter, xnnInput, shippedIdentity, shippedBatchNorm, jsMaxPoolGrad]],
    ['+ phase split', [monoFilter, monoInput, shippedIdentity, shippedBatchNorm, jsMaxPoolGrad]],
    ['+ shared Identity', [monoFilter, monoInput, monoIdentity, shippedBatchNorm, jsMaxPoolGrad]],
    ['+ SIMD FusedBatchNorm', [monoFilter, monoInput, monoIdentity, monoBatchNorm, jsMaxPoolGrad]],
    ['+ SIMD MaxPoolGrad', [monoFilter, monoInput, monoIdentity, monoBatchNorm, monoMaxPoolGrad]],
  ];
  const all: [string, tf.KernelConfig[]][] = [
    ...steps.map(([name, kernels]): [string, tf.KernelConfig[]] => [name, [...kernels, shippedConv2d]]),
    ['+ Conv2D on onnxruntime', [monoFilter, monoInput, monoIdentity, monoBatchNorm, monoMaxPoolGrad, monoConv2d]],
  ];
  const picked = args.steps === undefined ? all : args.steps.split(',').map((i) => all[Number(i)]).filter((c): c is [string, tf.KernelConfig[]] => c !== undefined);
  const configurations: Record<string, tf.KernelConfig[]> = Object.fromEntries(picked);

  const names = Object.keys(configurations);
  const plans = [['monolithnet', 'plans/monolithnet.mono', { width: '1', depth: '1' }], ['quickstart', 'plans/quickstart.mono', {}]] as const;
  console.log(`\n## step\n`);
  console.log(`| plan | phase | batch | ${names.map((n) => `${n} ms`).join(' | ')} | ${names.slice(1).map((n) => `before / ${n}`).join(' | ')} |`);
  console.log(`| --- | --- | ---: | ${names.map(() => '---:').join(' | ')} | ${names.slice(1).map(() => '---:').join(' | ')} |`);
  for (const [plan, file, set] of plans) {
    if (args.plan !== undefined && args.plan !== plan) continue;
    const ir = compilePlan(readFileSync(file, 'utf8'), file, { set }).ir!;
    // End to end (the finetune) and the last partition with the others frozen, as bench:vs-pytorch.
    const last = ir.phases.filter((p) => p.kind !== 'finetune').at(-1)!;
    for (const [phaseName, batch] of [ir.phases.find((p) => p.kind === 'finetune')!.name, last.name].flatMap((n) => batches.map((b) => [n, b] as const))) {
      const phase = ir.phases.find((p) => p.name === phaseName)!;
      const network = new Network(ir, runRngs(1).init);
      const graph = phaseGraph(network, phase);
      const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
      const rng = new Rng(1);
      const [h, w, c] = ir.input.shape as [number, number, number];
      const data = { images: Float32Array.from({ length: batch * h * w * c }, () => rng.normal()),
        labels: Int32Array.from({ length: batch }, () => rng.int(ir.classes)), size: batch, shape: [h, w, c] as [number, number, number] };
      const hyper = { lr: gradientOptimizer(phase).lr, momentum: baseMomentum(gradientOptimizer(phase)) };
      const samples = names.map((): number[] => []);
      for (let round = -1; round < rounds; round++) {
        const order = round % 2 === 0 ? names.map((_, i) => i) : names.map((_, i) => names.length - 1 - i);
        for (const i of order) {
          for (const config of configurations[names[i]!]!) register(config);
          const started = performance.now();
          await trainStep(network, graph, data, optimizer, hyper, () => rng.int(2 ** 31));
          if (round >= 0) samples[i]!.push(performance.now() - started);
        }
      }
      for (const config of [...mono, monoConv2d]) register(config);
      optimizer.dispose();
      network.dispose();
      const medians = samples.map(median);
      console.log(`| ${plan} | ${phaseName} | ${batch} | ${medians.map((m) => m.toFixed(1)).join(' | ')} | ${medians.slice(1).map((m) => `${(medians[0]! / m).toFixed(2)}x`).join(' | ')} |`);
    }
  }
}

function benchMaxPoolGrad(): void {
  const simd = tf.getKernel(tf.MaxPoolGrad, 'wasm')!;
  console.log(`\n## maxpool\n`);
  console.log('| case | batch | JS pass ms | SIMD kernel ms | JS / SIMD | max rel. diff |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const cases = [{ name: '2x2 s2 same, 28x28x16 (quickstart)', h: 28, c: 16, size: 2 }, { name: '3x3 s2 same, 32x32x16', h: 32, c: 16, size: 3 }];
  for (const batch of batches) {
    for (const k of cases) {
      const x = tf.relu(tf.randomNormal([batch, k.h, k.h, k.c])) as tf.Tensor4D;
      const y = tf.maxPool(x, k.size, 2, 'same');
      const dy = tf.randomNormal(y.shape);
      const attrs = { filterSize: k.size, strides: 2, pad: 'same' } as unknown as tf.MaxPoolGradAttrs;
      const variants = [
        (): tf.TensorInfo => {
          const out = backend.makeOutput(x.shape, 'float32');
          maxPoolBackprop(poolGeometry(x.shape, attrs), backend.typedArrayFromHeap(x) as Float32Array,
            backend.typedArrayFromHeap(dy) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array);
          return out;
        },
        (): tf.TensorInfo => simd.kernelFunc({ backend, inputs: { dy, input: x, output: y }, attrs: attrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo,
      ];
      const samples: number[][] = [[], []];
      const outputs: Float32Array[] = [];
      for (let round = -1; round < rounds; round++) {
        for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
          const started = performance.now();
          const out = variants[i]!();
          const ms = performance.now() - started;
          if (round < 0) outputs[i] = (backend.readSync(out.dataId) as Float32Array).slice();
          else samples[i]!.push(ms);
          backend.disposeData(out.dataId);
        }
      }
      tf.dispose([x, y, dy]);
      const [js, fast] = samples.map(median) as [number, number];
      console.log(`| ${k.name} | ${batch} | ${js.toFixed(2)} | ${fast.toFixed(2)} | ${(js / fast).toFixed(2)}x | ${relativeDifference(outputs[0]!, outputs[1]!).toExponential(1)} |`);
    }
  }
}

if (args.only === 'maxpool') benchMaxPoolGrad();
if (args.only === 'step') await benchSteps();
console.log(`\nload average at the end ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
