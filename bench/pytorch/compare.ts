/** How far two runs of the same plan are apart: losses step by step, weights tensor by tensor; summaries of repeated figures. */
import type { NamedWeights } from '../../src/runtime/graph.js';

/** |a - b| / |a| (0 when both are 0). */
export function relativeDifference(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Number.MIN_VALUE);
}

export interface LossAgreement {
  steps: number;
  first: number;
  /** Largest relative difference over the first 10 steps. */
  firstTen: number;
  max: number;
  /** Step (1-based) of the largest difference. */
  maxAt: number;
}

export function compareLosses(mono: readonly number[], other: readonly number[]): LossAgreement {
  if (mono.length !== other.length) throw new Error(`loss series differ in length: ${mono.length} vs ${other.length}`);
  const diffs = mono.map((a, i) => relativeDifference(a, other[i]!));
  let maxAt = 0;
  diffs.forEach((d, i) => {
    if (d > diffs[maxAt]!) maxAt = i;
  });
  return {
    steps: diffs.length,
    first: diffs[0] ?? 0,
    firstTen: Math.max(0, ...diffs.slice(0, 10)),
    max: Math.max(0, ...diffs),
    maxAt: diffs.length ? maxAt + 1 : 0,
  };
}

export interface WeightAgreement {
  /** Largest over tensors of max|a - b| / max|a|. */
  max: number;
  /** Tensor where it is largest. */
  tensor: string;
  /** Median over all tensors (BatchNorm statistics included). */
  median: number;
  tensors: number;
}

/** Per tensor max|a - b| / max|a| (relative to the tensor's scale: elementwise ratios blow up near 0). */
export function compareWeights(mono: readonly NamedWeights[], other: readonly NamedWeights[]): WeightAgreement {
  const byName = new Map(other.map((w) => [w.name, w]));
  const diffs: { name: string; diff: number }[] = [];
  for (const w of mono) {
    const o = byName.get(w.name);
    if (!o) throw new Error(`weights '${w.name}' missing on the other side`);
    if (o.values.length !== w.values.length) throw new Error(`weights '${w.name}': ${w.values.length} values vs ${o.values.length}`);
    let scale = 0;
    let largest = 0;
    for (let i = 0; i < w.values.length; i++) {
      scale = Math.max(scale, Math.abs(w.values[i]!));
      largest = Math.max(largest, Math.abs(w.values[i]! - o.values[i]!));
    }
    diffs.push({ name: w.name, diff: largest === 0 ? 0 : largest / Math.max(scale, Number.MIN_VALUE) });
  }
  const sorted = [...diffs].sort((a, b) => a.diff - b.diff);
  const top = sorted[sorted.length - 1] ?? { name: '-', diff: 0 };
  return { max: top.diff, tensor: top.name, median: sorted[Math.floor(sorted.length / 2)]?.diff ?? 0, tensors: diffs.length };
}

/** Per-step losses from a running mean of per-step losses weighted by batch sizes (what mono's onBatch reports). */
export function stepLossesFromRunningMeans(means: readonly number[], sizes: readonly number[]): number[] {
  const losses: number[] = [];
  let sum = 0;
  let examples = 0;
  means.forEach((mean, i) => {
    const size = sizes[i]!;
    const total = mean * (examples + size);
    losses.push((total - sum) / size);
    sum = total;
    examples += size;
  });
  return losses;
}

export interface Summary {
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (0 for one value). */
  sd: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, min: NaN, max: NaN, sd: NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, min: Math.min(...values), max: Math.max(...values), sd, n };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
