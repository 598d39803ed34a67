/**
 * `mono doctor --bench`: the active backend's training throughput on a fixed small
 * net (the caller's IR and phase; doctor uses plans/monolithnet.mono at width=1,
 * depth=1, end to end), in training FLOPs per second as src/summary/time.ts counts
 * them. Synthetic data, a warm-up step (kernels compiled, shaders built), then steps
 * until the time budget is spent; the median step counts.
 */
import os from 'node:os';
import type { IR, PhaseSpec } from '../ir/types.js';
import { Optimizer } from '../optim/optimizers.js';
import { stepFlopsPerExample } from '../summary/time.js';
import { Network } from './graph.js';
import { Rng } from './rng.js';
import { baseMomentum, gradientOptimizer, optimizedParams, phaseGraph, releaseFrozen, trainStep } from './step.js';
import type { BenchEntry } from './throughput-cache.js';

export interface ThroughputOptions {
  batch: number;
  /** Time for the timed steps, after the warm-up (ms). */
  budgetMs: number;
  minSteps: number;
  maxSteps: number;
  /** The net, in words, for the cache. */
  net: string;
  /** The adapter (webgpu), for the cache's machine line. */
  adapter?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Times training steps of `phase` on the active backend; returns what the bench cache records. */
export async function measureThroughput(ir: IR, phase: PhaseSpec, options: ThroughputOptions): Promise<BenchEntry> {
  const network = new Network(ir, new Rng(1));
  const graph = phaseGraph(network, phase);
  const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
  const rng = new Rng(2);
  const [h, w, c] = ir.input.shape as [number, number, number];
  const batch = {
    images: Float32Array.from({ length: options.batch * h * w * c }, () => rng.normal()),
    labels: Int32Array.from({ length: options.batch }, () => rng.int(ir.classes)),
    size: options.batch,
    shape: [h, w, c],
  };
  const hyper = { lr: gradientOptimizer(phase).lr, momentum: baseMomentum(gradientOptimizer(phase)) };
  const step = async (): Promise<number> => {
    const started = performance.now();
    await trainStep(network, graph, batch, optimizer, hyper, () => rng.int(2 ** 31));
    return performance.now() - started;
  };
  try {
    await step();
    const times: number[] = [];
    const started = performance.now();
    while (times.length < options.maxSteps && (times.length < options.minSteps || performance.now() - started < options.budgetMs)) {
      times.push(await step());
    }
    const stepMs = median(times);
    const cpu = `${os.cpus()[0]?.model?.trim() ?? 'CPU'} x ${os.availableParallelism()}`;
    return {
      flopsPerSecond: (stepFlopsPerExample(ir, phase) * options.batch) / (stepMs / 1000),
      stepMs,
      steps: times.length,
      batch: options.batch,
      net: options.net,
      measuredAt: new Date().toISOString(),
      machine: options.adapter ? `${cpu}; ${options.adapter}` : cpu,
    };
  } finally {
    optimizer.dispose();
    releaseFrozen(graph);
    network.dispose();
  }
}
