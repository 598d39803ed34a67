/**
 * Training-step benchmark on the wasm backend, or any other
 * (node --import tsx bench/train-step.ts [--backend NAME] [--width N] [--batch N] [--steps N] [--cpu-steps N] [--json FILE]):
 *   (a) one end-to-end step of a small CIFAR-shaped ResNet plan through mono
 *       (plans/monolithnet.mono with width=N (default 1), depth=1: stem + 3 basic blocks,
 *       16/32/64 channels times the width),
 *   (b) the same net, step and optimizer written by hand with tfjs ops on the same backend,
 *   (c) one step of training only the last partition (p3, with p1 and p2 frozen) through mono.
 * Goals: (a)/(b) <= 1.05; (c)/(a) well below 1. Median of the timed steps, after warm-up.
 * "Before" mono's wasm kernels (wasm only), the same step as (a):
 *   (d) with the kernels tfjs ships for wasm: fails, it has no Conv2DBackpropFilter;
 *   (e) shipped kernels plus only mono's Conv2DBackpropFilter, timed interleaved with (a)-(c);
 *   (f) on the pure-JS cpu backend (--cpu-steps, default 1, no warm-up; 0 skips it).
 * The gradient functions are mono's in every row: tfjs-core's Node bundle registers none.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compilePlan } from '../src/compile.js';
import type { IR, PhaseSpec } from '../src/ir/types.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { selectBackend } from '../src/runtime/backend.js';
import { registerWasmTrainingKernels, restoreShippedWasmKernels } from '../src/runtime/kernels/index.js';
import { Network } from '../src/runtime/graph.js';
import { Rng } from '../src/runtime/rng.js';
import { phaseGraph, trainStep } from '../src/runtime/step.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '6' },
    'cpu-steps': { type: 'string', default: '1' },
    width: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const batch = Number(args.batch);
const steps = Number(args.steps);
const cpuSteps = Number(args['cpu-steps']);
const width = Number(args.width);
const warmup = 2;
const LR = 0.05;
const MOMENTUM = 0.9;
const DECAY = 5e-4;

const planFile = new URL('../plans/monolithnet.mono', import.meta.url);
const compiled = compilePlan(readFileSync(planFile, 'utf8'), 'plans/monolithnet.mono', { set: { width: String(width), depth: '1' } });
if (!compiled.ir) throw new Error(`plan did not compile: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
const ir: IR = compiled.ir;
const backend = await selectBackend({ force: args.backend! });

const rng = new Rng(1);
const [h, w, c] = ir.input.shape as [number, number, number];
const images = Float32Array.from({ length: batch * h * w * c }, () => rng.normal());
const labels = Int32Array.from({ length: batch }, () => rng.int(ir.classes));
const data = { images, labels, size: batch, shape: [h, w, c] as [number, number, number] };

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// ---------------------------------------------------------------- (a), (c): through mono

interface Stepper {
  /** Untimed set-up before each step (which kernels are registered). */
  enter?(): void;
  step(): Promise<void>;
  dispose(): void;
}

function monoStepper(phase: PhaseSpec): Stepper {
  const network = new Network(ir, new Rng(2));
  const graph = phaseGraph(network, phase);
  const trained = new Set(graph.variables.map((v) => v.name));
  const params = network
    .paramSpecs()
    .filter((s) => trained.has(network.variable(s.name).name))
    .map((s) => ({ name: s.name, variable: network.variable(s.name), lrMult: s.lrMult, tags: [], group: s.partition }));
  const optimizer = new Optimizer({ type: 'msgd', lr: LR, momentum: MOMENTUM, weightDecay: DECAY, lars: null }, params);
  const seedRng = new Rng(3);
  return {
    step: async () => void (await trainStep(network, graph, data, optimizer, { lr: LR, momentum: MOMENTUM }, () => seedRng.int(2 ** 31))),
    dispose: () => {
      optimizer.dispose();
      network.dispose();
    },
  };
}

const finetune = ir.phases.find((p) => p.kind === 'finetune') ?? { ...ir.phases[0]!, frozen: [], trainable: ir.partitions.map((p) => p.name), head: 'network' as const };
const lastPartition = ir.phases.find((p) => p.kind === 'train' && p.partition === ir.partitions[ir.partitions.length - 1]!.name)!;

// ---------------------------------------------------------------- (b): by hand

/** The plan's network written out directly: conv-bn-relu stem, basic blocks with 1x1 projections, gap, dense. */
function handStepper(): Stepper {
  const init = new Rng(2);
  const he = (shape: number[]) => {
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => init.normal() * Math.sqrt(2 / fanIn)), shape));
  };
  interface BN { gamma: tf.Variable; beta: tf.Variable; mean: tf.Variable; variance: tf.Variable }
  const bn = (f: number): BN => ({
    gamma: tf.variable(tf.ones([f])),
    beta: tf.variable(tf.zeros([f])),
    mean: tf.variable(tf.zeros([f]), false),
    variance: tf.variable(tf.ones([f]), false),
  });
  const f = 16 * width;
  const stem = { kernel: he([3, 3, c, f]), bn: bn(f) };
  const blocks = [
    { in: f, out: f, stride: 1 },
    { in: f, out: 2 * f, stride: 2 },
    { in: 2 * f, out: 4 * f, stride: 2 },
  ].map((b) => ({
    ...b,
    k1: he([3, 3, b.in, b.out]),
    bn1: bn(b.out),
    k2: he([3, 3, b.out, b.out]),
    bn2: bn(b.out),
    proj: b.stride !== 1 || b.in !== b.out ? { kernel: he([1, 1, b.in, b.out]), bn: bn(b.out) } : null,
  }));
  const dense = { kernel: he([4 * f, ir.classes]), bias: tf.variable(tf.zeros([ir.classes])) };

  const batchNorm = (x: tf.Tensor4D, p: BN) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    p.mean.assign(tf.add(tf.mul(p.mean, 0.99), tf.mul(mean, 0.01)));
    p.variance.assign(tf.add(tf.mul(p.variance, 0.99), tf.mul(variance, 0.01)));
    return tf.batchNorm(x, mean, variance, p.beta, p.gamma, 1e-3);
  };
  const forward = (x: tf.Tensor4D) => {
    let y = tf.relu(batchNorm(tf.conv2d(x, stem.kernel as tf.Tensor4D, 1, 'same'), stem.bn)) as tf.Tensor4D;
    for (const b of blocks) {
      const r1 = tf.relu(batchNorm(tf.conv2d(y, b.k1 as tf.Tensor4D, b.stride, 'same'), b.bn1)) as tf.Tensor4D;
      const r2 = batchNorm(tf.conv2d(r1, b.k2 as tf.Tensor4D, 1, 'same'), b.bn2);
      const skip = b.proj ? batchNorm(tf.conv2d(y, b.proj.kernel as tf.Tensor4D, b.stride, 'same'), b.proj.bn) : y;
      y = tf.relu(tf.add(skip, r2)) as tf.Tensor4D;
    }
    return tf.add(tf.matMul(tf.mean(y, [1, 2]) as tf.Tensor2D, dense.kernel as tf.Tensor2D), dense.bias);
  };
  const variables = [stem.kernel, stem.bn.gamma, stem.bn.beta, dense.kernel, dense.bias, ...blocks.flatMap((b) => [b.k1, b.k2, b.bn1.gamma, b.bn1.beta, b.bn2.gamma, b.bn2.beta, ...(b.proj ? [b.proj.kernel, b.proj.bn.gamma, b.proj.bn.beta] : [])])];
  const velocity = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  const step = async () => {
    const x = tf.tensor4d(data.images, [batch, h, w, c]);
    const y = tf.tensor1d(data.labels, 'int32');
    const { value, grads } = tf.variableGrads(() => {
      const logits = forward(x);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, ir.classes), tf.logSoftmax(logits)), 1))) as tf.Scalar;
    }, variables);
    await value.data();
    tf.tidy(() => {
      variables.forEach((v, i) => {
        const g = grads[v.name]!;
        const next = tf.sub(tf.mul(velocity[i]!, MOMENTUM), tf.mul(tf.add(g, tf.mul(v, DECAY)), LR));
        velocity[i]!.assign(next);
        v.assign(tf.add(v, next));
      });
    });
    tf.dispose([x, y, value, ...Object.values(grads)]);
  };
  const dispose = () => tf.dispose([...variables, ...velocity, ...blocks.flatMap((b) => [b.bn1.mean, b.bn1.variance, b.bn2.mean, b.bn2.variance, ...(b.proj ? [b.proj.bn.mean, b.proj.bn.variance] : [])]), stem.bn.mean, stem.bn.variance]);
  return { step, dispose };
}

/** Median step time of each stepper, their steps interleaved so that load from other processes hits all alike. */
async function timeInterleaved(steppers: Stepper[]): Promise<number[]> {
  for (let i = 0; i < warmup; i++) {
    for (const s of steppers) {
      s.enter?.();
      await s.step();
    }
  }
  const times = steppers.map(() => [] as number[]);
  for (let i = 0; i < steps; i++) {
    for (const [k, s] of steppers.entries()) {
      s.enter?.();
      const started = performance.now();
      await s.step();
      times[k]!.push(performance.now() - started);
    }
  }
  return times.map(median);
}

const onWasm = backend.name === 'wasm';
const withMonoKernels = (stepper: Stepper): Stepper => (onWasm ? { ...stepper, enter: registerWasmTrainingKernels } : stepper);
/** Shipped wasm kernels, except mono's `keep` (the registry is global, so it is switched before every step). */
const withShippedKernels = (stepper: Stepper, keep: readonly string[]): Stepper => ({ ...stepper, enter: () => restoreShippedWasmKernels({ keep }) });

// (d): shipped wasm kernels only; expected to fail in the backward pass.
let shippedOnly = 'not run (wasm only)';
if (onWasm) {
  restoreShippedWasmKernels();
  const stepper = monoStepper(finetune);
  try {
    const started = performance.now();
    await stepper.step();
    shippedOnly = `ran: ${(performance.now() - started).toFixed(0)} ms (one step)`;
  } catch (error) {
    shippedOnly = `fails: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    stepper.dispose();
    registerWasmTrainingKernels();
  }
}

const steppers = [withMonoKernels(monoStepper(finetune)), withMonoKernels(handStepper()), withMonoKernels(monoStepper(lastPartition))];
if (onWasm) steppers.push(withShippedKernels(monoStepper(finetune), [tf.Conv2DBackpropFilter]));
const [a, b, last, shippedWithFilter] = await timeInterleaved(steppers) as [number, number, number, number | undefined];
steppers.forEach((s) => s.dispose());
if (onWasm) registerWasmTrainingKernels();

// (f): the same step as (a) on the pure-JS cpu backend, then back.
let cpu: number | undefined;
if (cpuSteps > 0 && backend.name !== 'cpu') {
  await tf.setBackend('cpu');
  const stepper = monoStepper(finetune);
  const times: number[] = [];
  for (let i = 0; i < cpuSteps; i++) {
    const started = performance.now();
    await stepper.step();
    times.push(performance.now() - started);
  }
  stepper.dispose();
  cpu = median(times);
  await tf.setBackend(backend.tfName);
  if (onWasm) registerWasmTrainingKernels();
}

const rate = (ms: number) => `${((batch / ms) * 1000).toFixed(ms > 1000 ? 1 : 0)} ex/s`;
const rows: [string, string, string][] = [
  ['(a) mono, end-to-end step', `${a.toFixed(1)} ms`, rate(a)],
  ['(b) hand-written tfjs, same net', `${b.toFixed(1)} ms`, rate(b)],
  ['(c) mono, last partition only (p3)', `${last.toFixed(1)} ms`, rate(last)],
  ['(a)/(b)  goal <= 1.05', (a / b).toFixed(3), ''],
  ['(c)/(a)  goal well below 1', (last / a).toFixed(3), ''],
];
if (shippedWithFilter !== undefined) {
  rows.push(
    ['(e) as (a), shipped wasm + mono BackpropFilter', `${shippedWithFilter.toFixed(1)} ms`, rate(shippedWithFilter)],
    ['(e)/(a)  speed-up of mono kernels', `${(shippedWithFilter / a).toFixed(2)}x`, ''],
  );
}
if (cpu !== undefined) {
  rows.push(
    [`(f) as (a), cpu backend (${cpuSteps} step${cpuSteps === 1 ? '' : 's'})`, `${cpu.toFixed(0)} ms`, rate(cpu)],
    ['(f)/(a)  speed-up over pure JS', `${(cpu / a).toFixed(1)}x`, ''],
  );
}
const on = backend.adapter ? `adapter ${backend.adapter.name}` : `${backend.threads} thread${backend.threads === 1 ? '' : 's'}`;
console.log(`backend ${backend.name} (${on}), monolithnet width=${width} depth=1, batch ${batch} of ${h}x${w}x${c}, median of ${steps} steps after ${warmup} warm-up, steps interleaved`);
for (const [name, value, rowRate] of rows) console.log(`${name.padEnd(48)} ${value.padStart(10)}  ${rowRate}`);
if (onWasm) {
  console.log(`(d) as (a), wasm with only the kernels tfjs ships: ${shippedOnly}`);
  console.log('Gradient functions are mono\'s in every row (tfjs-core\'s Node bundle registers none), incl. its BatchNorm gradient');
  console.log('without Tile: (e) changes only the kernels (Conv2DBackpropInput, MaxPoolGrad/AvgPoolGrad, unfixed \'same\' Conv2D).');
}
if (args.json !== undefined) {
  const record = { backend: backend.name, adapter: backend.adapter?.name ?? null, threads: backend.threads, width, batch, steps, monoMs: a, handMs: b, lastPartitionMs: last, cpuMs: cpu ?? null };
  writeFileSync(args.json, JSON.stringify(record, null, 2) + '\n');
}
