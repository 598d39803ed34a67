/** mono's side of the comparison, in this process, through mono's own runtime. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IR, PhaseSpec } from '../../src/ir/types.js';
import { Optimizer } from '../../src/optim/optimizers.js';
import type { LoadedData } from '../../src/runtime/data/dataset.js';
import { Network, type NamedWeights } from '../../src/runtime/graph.js';
import { Rng } from '../../src/runtime/rng.js';
import { runSession } from '../../src/runtime/session.js';
import { baseMomentum, gradientOptimizer, optimizedParams, phaseGraph, trainStep } from '../../src/runtime/step.js';
import { runRngs, Trainer, type EpochMetrics } from '../../src/runtime/trainer.js';
import { stepLossesFromRunningMeans } from './compare.js';

export interface Stepper {
  /** One training step; returns its milliseconds. */
  step(): Promise<number>;
  dispose(): void;
}

/** Training steps of one phase on random data (values do not matter for time), mono's network and optimizer. */
export function monoStepper(ir: IR, phase: PhaseSpec, batch: number, seed: number): Stepper {
  const network = new Network(ir, runRngs(seed).init);
  const graph = phaseGraph(network, phase);
  const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
  const rng = new Rng(seed).fork(7);
  const [h, w, c] = ir.input.shape as [number, number, number];
  const images = Float32Array.from({ length: batch * h * w * c }, () => rng.normal());
  const labels = Int32Array.from({ length: batch }, () => rng.int(ir.classes));
  const data = { images, labels, size: batch, shape: [h, w, c] as [number, number, number] };
  const hyper = { lr: gradientOptimizer(phase).lr, momentum: baseMomentum(gradientOptimizer(phase)) };
  const dropout = rng.fork(1);
  return {
    async step() {
      const started = performance.now();
      await trainStep(network, graph, data, optimizer, hyper, () => dropout.int(2 ** 31));
      return performance.now() - started;
    },
    dispose() {
      optimizer.dispose();
      network.dispose();
    },
  };
}

export interface RecipeRun {
  wallSeconds: number;
  epochs: EpochMetrics[];
}

/** The whole plan as `mono run` trains it (run folder, checkpoint and plots every epoch), in a temporary folder. */
export async function runMonoRecipe(ir: IR, data: LoadedData, seed: number): Promise<RecipeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mono-vs-pytorch-run-'));
  const epochs: EpochMetrics[] = [];
  try {
    const started = performance.now();
    await runSession({ ir, dir, seed, data, onEpoch: (m) => epochs.push(m) });
    return { wallSeconds: (performance.now() - started) / 1000, epochs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CheckRun {
  /** Training loss of every step, all phases one after another. */
  losses: number[];
  epochs: EpochMetrics[];
  /** Weights (and BatchNorm statistics) at the end of each phase, by phase name. */
  weights: Map<string, NamedWeights[]>;
}

/** The plan through mono's Trainer, recording every step's loss and the weights at each phase's end. */
export async function runMonoCheck(ir: IR, data: LoadedData, seed: number): Promise<CheckRun> {
  const network = new Network(ir, runRngs(seed).init);
  const epochs: EpochMetrics[] = [];
  const weights = new Map<string, NamedWeights[]>();
  const losses: number[] = [];
  let means: number[] = [];
  let sizes: number[] = [];
  const batch = ir.data.batch;
  const count = data.train.count;
  try {
    const trainer = new Trainer({
      network,
      data,
      seed,
      // Every step's loss: onBatch's running mean covers all steps so far only when each is read.
      lossReadEvery: 1,
      hooks: {
        onBatch(progress) {
          means.push(progress.loss);
          sizes.push(Math.min(batch, count - (progress.step - 1) * batch));
        },
        async onEpoch(metrics) {
          losses.push(...stepLossesFromRunningMeans(means, sizes));
          means = [];
          sizes = [];
          epochs.push(metrics);
          if (metrics.epoch === metrics.epochs) weights.set(metrics.phase, await network.getWeights());
        },
      },
    });
    await trainer.run();
  } finally {
    network.dispose();
  }
  return { losses, epochs, weights };
}
