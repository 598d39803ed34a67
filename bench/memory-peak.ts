/**
 * Measured peak memory of one training step per phase, and of hold-out evaluation
 * (node --import tsx bench/memory-peak.ts [--backend wasm] [--batch N] [--eval N]):
 * for plans/quickstart.mono, plans/mi-lr.mono and plans/monolithnet.mono (width=1,
 * depth=1), synthetic data of each plan's shape. Prints per phase the peak tensor
 * bytes tfjs accounts (tf.profile's peakBytes, all weights and slots included).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compilePlan } from '../src/compile.js';
import type { IR } from '../src/ir/types.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { selectBackend } from '../src/runtime/backend.js';
import { Network } from '../src/runtime/graph.js';
import { Rng } from '../src/runtime/rng.js';
import { evaluate, optimizedParams, phaseGraph, trainStep } from '../src/runtime/step.js';
import { estimateAt, phaseMemoryModel } from '../src/summary/memory.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string' },
    eval: { type: 'string', default: '0' },
  },
});
await selectBackend({ force: args.backend! });
const PLANS: [string, Record<string, string>][] = [
  ['plans/quickstart.mono', {}],
  ['plans/mi-lr.mono', {}],
  ['plans/monolithnet.mono', { width: '1', depth: '1' }],
];
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(2);

// Bytes the wasm backend mallocs for tensor data, including kernel-internal temporaries.
let live = 0;
let high = 0;
const backend = tf.backend() as unknown as { wasm?: { _malloc(n: number): number; _free(p: number): void } };
const sizes = new Map<number, number>();
if (backend.wasm) {
  const wasm = backend.wasm;
  const malloc = wasm._malloc.bind(wasm);
  const free = wasm._free.bind(wasm);
  wasm._malloc = (n: number) => {
    const p = malloc(n);
    sizes.set(p >>> 0, n);
    live += n;
    high = Math.max(high, live);
    return p;
  };
  wasm._free = (p: number) => {
    live -= sizes.get(p >>> 0) ?? 0;
    sizes.delete(p >>> 0);
    free(p);
  };
}

for (const [file, set] of PLANS) {
  const compiled = compilePlan(readFileSync(file, 'utf8'), file, { set });
  const ir: IR = compiled.ir!;
  if (args.batch) ir.data.batch = Number(args.batch);
  const batch = ir.data.batch;
  const network = new Network(ir, new Rng(1));
  const rng = new Rng(2);
  const [h, w, c] = ir.input.shape as [number, number, number];
  const data = { images: Float32Array.from({ length: batch * h * w * c }, () => rng.normal()), labels: Int32Array.from({ length: batch }, () => rng.int(ir.classes)), size: batch, shape: [h, w, c] as [number, number, number] };
  for (const phase of ir.phases) {
    const graph = phaseGraph(network, phase);
    const optimizer = new Optimizer(phase.optimizer, optimizedParams(network, graph), phase.lrMultipliers);
    const resident = tf.memory().numBytes;
    const peaks: number[] = [];
    const mallocPeaks: number[] = [];
    for (let step = 0; step < 2; step++) {
      high = live;
      const profile = await tf.profile(() => void trainStep(network, graph, data, optimizer, { lr: 0.01, momentum: 0.9 }, () => 1));
      peaks.push(profile.peakBytes);
      mallocPeaks.push(high);
    }
    let evalPeak = '';
    if (Number(args.eval) > 0) {
      const count = Number(args.eval);
      const split = { images: Float32Array.from({ length: count * h * w * c }, () => rng.normal()), labels: Int32Array.from({ length: count }, () => rng.int(ir.classes)), count, shape: [h, w, c] as [number, number, number] };
      const profile = await tf.profile(() => void evaluate(network, graph, split, 500));
      evalPeak = ` eval(${count}) ${mib(profile.peakBytes)} MiB`;
    }
    optimizer.dispose();
    const estimate = estimateAt(phaseMemoryModel(ir, phase), batch);
    const measured = Math.max(...peaks);
    console.log(`${ir.plan} ${phase.name} batch ${batch}: resident ${mib(resident)} MiB, step peak ${peaks.map(mib).join(' / ')} MiB, estimate ${mib(estimate.peakBytes)} MiB (${estimate.peakAt}), ${(100 * (estimate.peakBytes / measured - 1)).toFixed(1)}%${evalPeak}`);
  }
  network.dispose();
}
