/**
 * How long a plan takes to train, from the IR and a backend's measured throughput
 * (`mono doctor --bench`: FLOP/s of training steps of a fixed small net). No
 * TensorFlow.js here: `mono compile` prints the estimate.
 *
 * A training step of one example costs the forward FLOPs of the frozen partitions,
 * plus three times the forward FLOPs of the trained partitions and of the head that
 * gives the loss (the backward pass is about twice the forward). The hold-out set is
 * evaluated once per epoch (one forward pass each). The throughput is measured in the
 * same units, so the estimate is as good as the bench net is like the plan: kernels
 * of very different sizes run at different speeds (a GPU is far from its peak on a
 * small net).
 */
import type { IR, PhaseSpec } from '../ir/types.js';

/** Backward + forward FLOPs of a trained op, per forward FLOP. */
export const TRAINING_FLOPS_PER_FORWARD_FLOP = 3;

/** A run longer than this gets a warning from `mono run`. */
export const LONG_RUN_SECONDS = 24 * 3600;

export interface Throughput {
  backend: string;
  /** Training FLOPs (as counted above) per second. */
  flopsPerSecond: number;
  /** `measured` by mono doctor --bench on this machine, or mono's documented `default`. */
  source: 'measured' | 'default';
  /** Where and when it was measured (measured only). */
  measuredAt?: string;
  machine?: string;
}

/**
 * The wasm backend's throughput on the project's 2-core build machine (AMD EPYC VM,
 * 2 wasm threads, load average 10 from other jobs), from `mono doctor --bench` there
 * on 2026-11-30 (743.6 ms a step: 3.3 GFLOP/s): what compile and run assume until this
 * machine has been measured. docs/runtime.md, "Time estimates".
 */
export const DEFAULT_THROUGHPUT: Throughput = { backend: 'wasm', flopsPerSecond: 3.3e9, source: 'default' };

function forwardFlops(ir: IR, partitions: readonly string[]): number {
  return ir.partitions.filter((p) => partitions.includes(p.name)).reduce((sum, p) => sum + p.flops, 0);
}

function headFlops(ir: IR, phase: PhaseSpec): number {
  if (phase.head !== 'proxy') return 0;
  const trained = phase.trainable[phase.trainable.length - 1];
  return ir.partitions.find((p) => p.name === trained)?.head?.flops ?? 0;
}

/** Training FLOPs of one example in one step of `phase`. */
export function stepFlopsPerExample(ir: IR, phase: PhaseSpec): number {
  return forwardFlops(ir, phase.frozen) + TRAINING_FLOPS_PER_FORWARD_FLOP * (forwardFlops(ir, phase.trainable) + headFlops(ir, phase));
}

/** Forward FLOPs of evaluating one hold-out example through the phase's head. */
export function evaluationFlopsPerExample(ir: IR, phase: PhaseSpec): number {
  return forwardFlops(ir, [...phase.frozen, ...phase.trainable]) + headFlops(ir, phase);
}

/** Training examples a plan sees per epoch, when known before the data is read. */
const KNOWN_TRAINING_EXAMPLES: Partial<Record<IR['data']['source']['type'], number>> = { mnist: 10_000, fashion_mnist: 60_000, cifar10: 50_000 };

/** Training examples per epoch (after the hold-out and `limit`), or null for an `idx` folder (known once read). */
export function trainingExamplesPerEpoch(ir: IR): number | null {
  const source = ir.data.source;
  const available = source.type === 'synthetic' ? source.examples : KNOWN_TRAINING_EXAMPLES[source.type];
  if (available === undefined) return ir.data.limit > 0 ? ir.data.limit : null;
  const train = Math.max(0, available - ir.data.holdout);
  return ir.data.limit > 0 ? Math.min(train, ir.data.limit) : train;
}

export interface PhaseTime {
  phase: string;
  epochs: number;
  secondsPerStep: number;
  /** Null when the number of examples is unknown. */
  secondsPerEpoch: number | null;
  seconds: number | null;
}

export interface RunTime {
  throughput: Throughput;
  examplesPerEpoch: number | null;
  phases: PhaseTime[];
  /** Null when the number of examples is unknown. */
  seconds: number | null;
}

/** Time per step, per epoch and per phase of `ir` at `throughput`. */
export function estimateRunTime(ir: IR, throughput: Throughput): RunTime {
  const examples = trainingExamplesPerEpoch(ir);
  const batch = ir.data.batch;
  const phases = ir.phases.map((phase): PhaseTime => {
    const secondsPerStep = (stepFlopsPerExample(ir, phase) * batch) / throughput.flopsPerSecond;
    if (examples === null) return { phase: phase.name, epochs: phase.epochs, secondsPerStep, secondsPerEpoch: null, seconds: null };
    // Full batches only (the trainer drops the last partial one when there is a full one).
    const steps = examples >= batch ? Math.floor(examples / batch) : 1;
    const trained = steps * Math.min(batch, examples);
    const secondsPerEpoch = (stepFlopsPerExample(ir, phase) * trained + evaluationFlopsPerExample(ir, phase) * ir.data.holdout) / throughput.flopsPerSecond;
    return { phase: phase.name, epochs: phase.epochs, secondsPerStep, secondsPerEpoch, seconds: secondsPerEpoch * phase.epochs };
  });
  const seconds = examples === null ? null : phases.reduce((sum, p) => sum + p.seconds!, 0);
  return { throughput, examplesPerEpoch: examples, phases, seconds };
}

/** 42 -> `42 s`, 5400 -> `1.5 h`, 3e7 -> `347 days`, 1e9 -> `31.7 years`. */
export function formatDuration(seconds: number): string {
  const round = (value: number) => (value >= 100 ? String(Math.round(value)) : value >= 10 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, ''));
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${round(seconds)} s`;
  if (seconds < 2 * 3600) return `${round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${round(seconds / 3600)} h`;
  if (seconds < 2 * 365 * 86400) return `${round(seconds / 86400)} days`;
  return `${round(seconds / (365 * 86400))} years`;
}

/** 1.1e9 -> `1.1 GFLOP/s`. */
export function formatRate(flopsPerSecond: number): string {
  const units = ['', 'k', 'M', 'G', 'T', 'P'];
  let value = flopsPerSecond;
  let index = 0;
  while (value >= 1000 && index < units.length - 1) {
    value /= 1000;
    index++;
  }
  return `${value >= 100 ? Math.round(value) : Number(value.toPrecision(2))} ${units[index]}FLOP/s`;
}
