/**
 * The wasm heap a training step needs against its tensor bytes
 * (node --import tsx bench/wasm-heap.ts [--batch N] [--steps N]): plans/monolithnet.mono
 * at width=1 depth=1, its fine-tune phase, synthetic data. Prints per step the heap
 * size (it only grows) next to the memory model's estimate. Without --batch: the
 * largest batch the model allows on wasm. A batch whose heap would pass 4 GiB stalls.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compilePlan } from '../src/compile.js';
import { Optimizer } from '../src/optim/optimizers.js';
import { selectBackend } from '../src/runtime/backend.js';
import { Network } from '../src/runtime/graph.js';
import { Rng } from '../src/runtime/rng.js';
import { gradientOptimizer, optimizedParams, phaseGraph, trainStep } from '../src/runtime/step.js';
import { wasmLimit } from '../src/summary/limits.js';
import { estimateAt, largestBatchWithin, phaseMemoryModel } from '../src/summary/memory.js';

const { values: args } = parseArgs({ options: { batch: { type: 'string' }, steps: { type: 'string', default: '3' } } });
await selectBackend({ force: 'wasm' });
const heapMiB = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20;
const file = 'plans/monolithnet.mono';
const ir = compilePlan(readFileSync(file, 'utf8'), file, { set: { width: '1', depth: '1' } }).ir!;
const phase = ir.phases.find((p) => p.kind === 'finetune')!;
const batch = args.batch !== undefined ? Number(args.batch) : largestBatchWithin(phaseMemoryModel(ir, phase), wasmLimit().bytes);
ir.data.batch = batch;
const rng = new Rng(2);
const [h, w, c] = ir.input.shape as [number, number, number];
const data = {
  images: Float32Array.from({ length: batch * h * w * c }, () => rng.normal()),
  labels: Int32Array.from({ length: batch }, () => rng.int(ir.classes)),
  size: batch,
  shape: [h, w, c] as [number, number, number],
};
const network = new Network(ir, new Rng(1));
const graph = phaseGraph(network, phase);
const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
console.log(`batch ${batch}: estimate ${(estimateAt(phaseMemoryModel(ir, phase), batch).peakBytes / 2 ** 20).toFixed(1)} MiB; heap ${heapMiB()} MiB`);
for (let step = 1; step <= Number(args.steps); step++) {
  const started = performance.now();
  const { loss } = await trainStep(network, graph, data, optimizer, { lr: 0.01, momentum: 0.9 }, () => 1);
  console.log(`step ${step}: loss ${loss.toFixed(3)}, heap ${heapMiB()} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
