/**
 * The memory model against what TensorFlow.js measures
 * (node --import tsx bench/memory-peak.ts [--backend wasm] [--batch N] [--holdout N]):
 * for plans/quickstart.mono, plans/mi-lr.mono and plans/monolithnet.mono (width=1,
 * depth=1), on synthetic data of each plan's shape, per phase: the peak tensor bytes
 * of one training step (tf.profile's peakBytes: weights, optimizer slots and everything
 * else alive), the estimate of src/summary/memory.ts, and the peak of evaluating a
 * hold-out split (batches of at most 500, as the trainer asks). Prints a markdown table.
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
import { evaluate, gradientOptimizer, optimizedParams, phaseGraph, trainStep } from '../src/runtime/step.js';
import { estimateAt, evaluationBatch, phaseMemoryModel, stepGraphOf } from '../src/summary/memory.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string' },
    holdout: { type: 'string', default: '1000' },
  },
});
await selectBackend({ force: args.backend! });
const PLANS: [string, Record<string, string>][] = [
  ['plans/quickstart.mono', {}],
  ['plans/mi-lr.mono', {}],
  ['plans/monolithnet.mono', { width: '1', depth: '1' }],
];
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const holdoutCount = Number(args.holdout);

console.log(`backend ${args.backend}; hold-out ${holdoutCount} examples, evaluation batches of at most 500\n`);
console.log('| plan | phase | batch | measured step peak | estimate | estimate - measured | evaluation peak (batch) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const [file, set] of PLANS) {
  const ir: IR = compilePlan(readFileSync(file, 'utf8'), file, { set }).ir!;
  if (args.batch) ir.data.batch = Number(args.batch);
  const batch = ir.data.batch;
  const network = new Network(ir, new Rng(1));
  const rng = new Rng(2);
  const [h, w, c] = ir.input.shape as [number, number, number];
  const images = (count: number) => Float32Array.from({ length: count * h * w * c }, () => rng.normal());
  const labels = (count: number) => Int32Array.from({ length: count }, () => rng.int(ir.classes));
  const data = { images: images(batch), labels: labels(batch), size: batch, shape: [h, w, c] as [number, number, number] };
  const holdout = { images: images(holdoutCount), labels: labels(holdoutCount), count: holdoutCount, shape: [h, w, c] as [number, number, number] };
  for (const phase of ir.phases) {
    const graph = phaseGraph(network, phase);
    const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
    // tf.profile returns the same object every time: read its peak at once.
    const measured = (await tf.profile(async () => void (await trainStep(network, graph, data, optimizer, { lr: 0.01, momentum: 0.9 }, () => 1)))).peakBytes;
    const evaluation = (await tf.profile(async () => void (await evaluate(network, graph, holdout, 500)))).peakBytes;
    optimizer.dispose();
    const estimate = estimateAt(phaseMemoryModel(ir, phase), batch).peakBytes;
    const difference = `${estimate >= measured ? '+' : ''}${(100 * (estimate / measured - 1)).toFixed(1)}%`;
    const evalBatch = evaluationBatch(ir, stepGraphOf(phase), 500);
    console.log(`| ${ir.plan} | ${phase.name} | ${batch} | ${mib(measured)} | ${mib(estimate)} | ${difference} | ${mib(evaluation)} (${evalBatch}) |`);
  }
  network.dispose();
}
