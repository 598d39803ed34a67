/**
 * The LR range test on a real network: trains one phase's graph for a few
 * hundred steps while the lr grows exponentially, stops when the smoothed loss
 * diverges, suggests lr bounds (maths in src/optim/lr-range.ts), and puts the
 * network's weights back as they were. Used by `mono lr-find` and by the trainer
 * for `mi(bounds: lr_find)` phases.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PhaseSpec } from '../ir/types.js';
import { LrRangeRecorder, lrAtStep, lrFindCsv, lrFindSvg, suggestBounds, sweepProblem, type LrRangePoint, type SuggestedBounds } from '../optim/lr-range.js';
import { Optimizer } from '../optim/optimizers.js';
import { batchesPerEpoch, epochBatches } from './data/batches.js';
import type { Split } from './data/dataset.js';
import { RuntimeFailure } from './errors.js';
import type { Network } from './graph.js';
import type { Rng } from './rng.js';
import { baseMomentum, gradientOptimizer, optimizedParams, phaseGraph, releaseFrozen, trainStep } from './step.js';

import { LR_FIND_FROM, LR_FIND_MAX_PASSES, LR_FIND_STEPS, LR_FIND_TO } from '../optim/lr-range.js';

export { LR_FIND_FROM, LR_FIND_MAX_PASSES, LR_FIND_STEPS, LR_FIND_TO };

export interface LrFindOptions {
  /** Planned steps (the sweep ends earlier when the loss diverges). Default: see defaultLrFindSteps. */
  steps?: number;
  from?: number;
  to?: number;
  onStep?(progress: { step: number; steps: number; lr: number; loss: number; smoothed: number; examplesPerSecond: number }): void;
}

export interface LrFindResult {
  phase: string;
  from: number;
  to: number;
  /** Steps planned; `points.length` were kept. */
  steps: number;
  /** True when the sweep stopped because the smoothed loss diverged (else it ran all steps). */
  diverged: boolean;
  points: LrRangePoint[];
  bounds: SuggestedBounds;
  /** Why `bounds` cannot be trusted (sweepProblem: too few steps, no descent, minimum at an edge), or null. */
  problem: string | null;
}

/**
 * Default sweep length: LR_FIND_STEPS, but at most LR_FIND_MAX_PASSES passes over
 * the training data, so a small data set is not memorised during the sweep (the
 * loss would then keep falling for a reason other than the lr).
 */
export function defaultLrFindSteps(trainCount: number, batch: number): number {
  const perPass = batchesPerEpoch(trainCount, batch, trainCount >= batch);
  return Math.max(2, Math.min(LR_FIND_STEPS, LR_FIND_MAX_PASSES * perPass));
}

/**
 * Runs the sweep for `phase` over `train` (the phase's own examples: its task's classes
 * in an incremental plan, phaseTrainSplit) from the network's current weights, with a fresh
 * optimizer of the phase's kind, its lr multipliers and its base momentum. Shuffling
 * and dropout draw from `rng` only. The weights (BatchNorm statistics included) are
 * restored afterwards, also when the sweep fails.
 */
export async function lrRangeTest(network: Network, train: Split, phase: PhaseSpec, rng: Rng, options: LrFindOptions = {}): Promise<LrFindResult> {
  const from = options.from ?? LR_FIND_FROM;
  const to = options.to ?? LR_FIND_TO;
  if (!(from > 0 && to > from)) throw new RangeError(`the LR range test needs 0 < from < to, got from ${from}, to ${to}`);
  const batch = network.ir.data.batch;
  const steps = options.steps ?? defaultLrFindSteps(train.count, batch);
  if (!(Number.isInteger(steps) && steps >= 2)) throw new RangeError(`the LR range test needs at least 2 steps, got ${steps}`);
  if (train.count === 0) throw new RuntimeFailure(`the LR range test for phase ${phase.name} has no training examples`);

  const saved = await network.getWeights();
  const graph = phaseGraph(network, phase);
  const optimizer = new Optimizer(gradientOptimizer(phase), optimizedParams(network, graph), phase.lrMultipliers);
  const momentum = baseMomentum(gradientOptimizer(phase));
  const recorder = new LrRangeRecorder();
  const nextSeed = () => rng.int(2 ** 31);
  const dropLast = train.count >= batch;
  const started = performance.now();
  let step = 0;
  let diverged = false;
  try {
    // Passes over the data until the planned steps are done or the loss diverges.
    sweep: while (step < steps) {
      for (const b of epochBatches(train, { batch, shuffle: true, augment: network.ir.data.augment, rng, dropLast })) {
        const lr = lrAtStep(step, steps, from, to);
        const { loss } = await trainStep(network, graph, b, optimizer, { lr, momentum }, nextSeed);
        const { smoothed, diverged: blewUp } = recorder.record(lr, loss);
        step++;
        options.onStep?.({ step, steps, lr, loss, smoothed, examplesPerSecond: (step * batch) / ((performance.now() - started) / 1000) });
        if (blewUp) {
          diverged = true;
          break sweep;
        }
        if (step >= steps) break sweep;
      }
    }
  } finally {
    optimizer.dispose();
    releaseFrozen(graph);
    network.setWeights(saved);
  }
  const points = recorder.points();
  if (!points.some((p) => Number.isFinite(p.smoothed))) {
    throw new RuntimeFailure(`the LR range test for phase ${phase.name} recorded no finite loss (from lr ${from})`);
  }
  return { phase: phase.name, from, to, steps, diverged, points, bounds: suggestBounds(points), problem: sweepProblem(points) };
}

/** The summary `mono lr-find --json` prints (and lr-find.json holds). */
export interface LrFindSummary {
  phase: string;
  suggested: { min: number; max: number };
  steepest: number;
  minimumLoss: number;
  from: number;
  to: number;
  steps: number;
  recorded: number;
  diverged: boolean;
  /** False when the sweep is unusable; `suggested` is then no suggestion at all. */
  usable: boolean;
  /** Why it is unusable, else null. */
  problem: string | null;
}

export function lrFindSummary(result: LrFindResult): LrFindSummary {
  const { bounds } = result;
  return {
    phase: result.phase,
    suggested: { min: bounds.min, max: bounds.max },
    steepest: bounds.steepest,
    minimumLoss: bounds.minimumLoss,
    from: result.from,
    to: result.to,
    steps: result.steps,
    recorded: result.points.length,
    diverged: result.diverged,
    usable: result.problem === null,
    problem: result.problem,
  };
}

/** Writes `<name>.csv` (lr, loss, smoothed loss), `<name>.svg` and `<name>.json` into dir; returns their paths. */
export async function writeLrFindFiles(dir: string, result: LrFindResult, name = 'lr-find'): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [`${name}.csv`, lrFindCsv(result.points)],
    [`${name}.svg`, lrFindSvg(result.points, result.bounds)],
    [`${name}.json`, JSON.stringify(lrFindSummary(result), null, 2) + '\n'],
  ];
  const written: string[] = [];
  for (const [file, text] of files) {
    await fs.writeFile(path.join(dir, file), text);
    written.push(path.join(dir, file));
  }
  return written;
}

/** The file `mono lr-find` writes its summary to, in its --out folder. */
export const LR_FIND_SUMMARY_FILE = 'lr-find.json';

/**
 * Reads the phase and suggested bounds from `dir/lr-find.json` (for `mono run --lr-find`),
 * and `problem`: why its sweep was unusable (`"usable": false`), else null (see
 * requireUsableLrFind). A file that cannot be read throws the fs error (the caller tells
 * the user which argument was wrong); one without a phase name and 0 < min <= max is a
 * RuntimeFailure.
 */
export async function readLrFindSummary(dir: string): Promise<{ file: string; phase: string; bounds: { min: number; max: number }; problem: string | null }> {
  const file = path.join(dir, LR_FIND_SUMMARY_FILE);
  const text = await fs.readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RuntimeFailure(`${file} is not JSON: ${(error as Error).message}`);
  }
  const summary = parsed as Partial<LrFindSummary> | null;
  const min = summary?.suggested?.min;
  const max = summary?.suggested?.max;
  if (typeof summary?.phase !== 'string' || typeof min !== 'number' || typeof max !== 'number' || !(min > 0 && min <= max && Number.isFinite(max))) {
    throw new RuntimeFailure(`${file} does not hold what 'mono lr-find' writes: a "phase" and "suggested": {"min", "max"} with 0 < min <= max`);
  }
  // Files written before `usable` existed count as usable.
  const problem = summary.usable === false ? (typeof summary.problem === 'string' ? summary.problem : 'no reason recorded') : null;
  return { file, phase: summary.phase, bounds: { min, max }, problem };
}

/** Throws a RuntimeFailure when an lr-find.json read by readLrFindSummary holds an unusable sweep. */
export function requireUsableLrFind(found: { file: string; phase: string; problem: string | null }): void {
  if (found.problem === null) return;
  throw new RuntimeFailure(
    `${found.file}: the LR range test of phase ${found.phase} was unusable (${found.problem}), so its bounds are no suggestion; ` +
      `run 'mono lr-find' again (more --steps, another --from), or run without --lr-find to let the phase run its own`,
  );
}
