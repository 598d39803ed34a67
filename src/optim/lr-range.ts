/**
 * The maths of the LR range test (Smith 2017; the fastai lr_find procedure),
 * which Vasudevan's MI-driven lr uses to set its bounds (the paper's Algorithm 2
 * is not published in full; this is mono's reconstruction, see docs/optimizers.md).
 * The trainer runs the steps; this module picks the lrs, smooths the losses,
 * detects divergence, suggests bounds and renders CSV and SVG.
 */
import { renderChart } from '../plot/index.js';

/** Defaults of the sweep: lr from LR_FIND_FROM to LR_FIND_TO over LR_FIND_STEPS steps. */
export const LR_FIND_FROM = 1e-7;
export const LR_FIND_TO = 10;
export const LR_FIND_STEPS = 200;
/** Without an explicit step count, the sweep makes at most this many passes over the training data. */
export const LR_FIND_MAX_PASSES = 2;
/** A sweep with fewer recorded steps is unusable: its curve is a handful of points (the EMA alone remembers ~50). */
export const LR_FIND_MIN_STEPS = 20;
/** A sweep is unusable unless its smoothed loss falls at least this fraction below its first value. */
export const LR_FIND_MIN_DESCENT = 0.05;

export interface LrRangePoint {
  lr: number;
  loss: number;
  smoothed: number;
}

export interface SuggestedBounds {
  /** Lower lr bound: where the smoothed loss starts to fall, kept within [max/1000, max/10]. */
  min: number;
  /** Upper lr bound: a tenth of the lr at the minimum smoothed loss. */
  max: number;
  /** The lr where the smoothed loss falls fastest against log lr. */
  steepest: number;
  /** The lr at the minimum smoothed loss. */
  minimumLoss: number;
}

/** lr of step `step` in 0..steps-1: exponential growth from `from` (step 0) to `to` (last step). */
export function lrAtStep(step: number, steps: number, from: number, to: number): number {
  if (!(from > 0) || !(to > 0)) throw new RangeError(`lr range needs positive ends, got ${from} and ${to}`);
  if (steps <= 1) return from;
  return from * (to / from) ** (step / (steps - 1));
}

export interface LrRangeRecorderOptions {
  /** EMA factor of the loss smoothing (default 0.98, as fastai). */
  beta?: number;
  /** Diverged once the smoothed loss exceeds this multiple of the best smoothed loss (default 4). */
  divergeFactor?: number;
}

/** Records the sweep: bias-corrected EMA of the loss, divergence detection. */
export class LrRangeRecorder {
  private readonly beta: number;
  private readonly divergeFactor: number;
  private average = 0;
  private count = 0;
  private best = Number.POSITIVE_INFINITY;
  private readonly recorded: LrRangePoint[] = [];

  constructor(options: LrRangeRecorderOptions = {}) {
    this.beta = options.beta ?? 0.98;
    this.divergeFactor = options.divergeFactor ?? 4;
    if (!(this.beta >= 0 && this.beta < 1)) throw new RangeError(`beta must be in [0, 1), got ${this.beta}`);
  }

  /**
   * Adds one step. A non-finite loss is diverged at once and is not kept
   * (the caller stops the sweep at the first `diverged`).
   */
  record(lr: number, loss: number): { smoothed: number; diverged: boolean } {
    if (!Number.isFinite(loss)) return { smoothed: Number.NaN, diverged: true };
    this.count += 1;
    this.average = this.beta * this.average + (1 - this.beta) * loss;
    // Dividing by 1 - beta^n removes the EMA's pull towards its zero start.
    const smoothed = this.average / (1 - this.beta ** this.count);
    this.recorded.push({ lr, loss, smoothed });
    const diverged = this.count > 1 && smoothed > this.divergeFactor * this.best;
    this.best = Math.min(this.best, smoothed);
    return { smoothed, diverged };
  }

  points(): LrRangePoint[] {
    return this.recorded.map((p) => ({ ...p }));
  }
}

/** Least-squares slope of smoothed loss against log10 lr over points[from..to]. */
function slope(points: readonly { lr: number; smoothed: number }[], from: number, to: number): number {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = from; i <= to; i++) {
    const p = points[i] as { lr: number; smoothed: number };
    const x = Math.log10(p.lr);
    n += 1;
    sx += x;
    sy += p.smoothed;
    sxx += x * x;
    sxy += x * p.smoothed;
  }
  const denominator = n * sxx - sx * sx;
  return denominator > 0 ? (n * sxy - sx * sy) / denominator : 0;
}

/**
 * Suggested bounds from a sweep (points in order of increasing lr):
 * - minimumLoss: lr at the lowest smoothed loss;
 * - steepest: lr of the most negative slope of smoothed loss vs log10 lr, each
 *   slope fitted over a window of about 1/10 of the descending part (for noise);
 * - max = minimumLoss / 10 (the loss is about to blow up at the minimum itself);
 * - min = first lr at which the smoothed loss has fallen by 10% of its total
 *   drop (the curve starts to descend), kept within [max / 1000, max / 10].
 * Non-finite or non-positive-lr points are ignored; throws when none is left.
 */
export function suggestBounds(points: readonly { lr: number; smoothed: number }[]): SuggestedBounds {
  const curve = points.filter((p) => p.lr > 0 && Number.isFinite(p.lr) && Number.isFinite(p.smoothed));
  if (curve.length === 0) throw new Error('lr range test recorded no finite loss: cannot suggest bounds');

  let lowest = 0;
  curve.forEach((p, i) => {
    if (p.smoothed < (curve[lowest] as { smoothed: number }).smoothed) lowest = i;
  });
  const first = curve[0] as { lr: number; smoothed: number };
  const minimumLoss = (curve[lowest] as { lr: number }).lr;

  // Steepest descent on the part before the minimum.
  const halfWindow = Math.max(1, Math.round((lowest + 1) / 20));
  let steepest = minimumLoss;
  let steepestSlope = 0;
  for (let i = 0; i <= lowest; i++) {
    const s = slope(curve, Math.max(0, i - halfWindow), Math.min(lowest, i + halfWindow));
    if (s < steepestSlope) {
      steepestSlope = s;
      steepest = (curve[i] as { lr: number }).lr;
    }
  }

  const max = minimumLoss / 10;
  const drop = first.smoothed - (curve[lowest] as { smoothed: number }).smoothed;
  // With no drop at all the curve never descended: fall back to max / 10.
  const descentStart = drop > 0 ? curve.find((p) => first.smoothed - p.smoothed >= 0.1 * drop)?.lr ?? max : max;
  const min = Math.min(max / 10, Math.max(max / 1000, descentStart));
  return { min, max, steepest, minimumLoss };
}

/**
 * Why a sweep's suggestion cannot be trusted, or null when it can. Unusable:
 * - fewer than LR_FIND_MIN_STEPS recorded (finite) steps;
 * - the lowest smoothed loss at the first recorded step: the loss never fell, so
 *   max = lr(first) / 10 lies below every lr tried (the "[1e-9, 1e-8]" of a sweep
 *   from 1e-8);
 * - no descent: the lowest smoothed loss is less than LR_FIND_MIN_DESCENT (5%) below
 *   the first one;
 * - the lowest smoothed loss at the last recorded step: the loss was still falling
 *   when the sweep ended, so where it turns (and max) is unknown.
 * Several reasons are joined with '; '. Points as suggestBounds takes them.
 */
export function sweepProblem(points: readonly { lr: number; smoothed: number }[]): string | null {
  const curve = points.filter((p) => p.lr > 0 && Number.isFinite(p.lr) && Number.isFinite(p.smoothed));
  const problems: string[] = [];
  if (curve.length < LR_FIND_MIN_STEPS) problems.push(`only ${curve.length} step${curve.length === 1 ? '' : 's'} recorded (at least ${LR_FIND_MIN_STEPS} needed)`);
  if (curve.length === 0) return problems.join('; ');
  let lowest = 0;
  curve.forEach((p, i) => {
    if (p.smoothed < curve[lowest]!.smoothed) lowest = i;
  });
  const first = curve[0]!.smoothed;
  const drop = first - curve[lowest]!.smoothed;
  if (lowest === 0) {
    problems.push(`the lowest loss is at the first step (lr ${formatLr(curve[0]!.lr)}): the loss never fell`);
  } else if (!(drop >= LR_FIND_MIN_DESCENT * Math.abs(first))) {
    problems.push(`no descent: the smoothed loss fell only ${((100 * drop) / Math.abs(first)).toFixed(1)}% below its start (at least ${LR_FIND_MIN_DESCENT * 100}% needed)`);
  }
  if (lowest === curve.length - 1 && curve.length > 1) {
    problems.push(`the lowest loss is at the last step (lr ${formatLr(curve[lowest]!.lr)}): the loss was still falling when the sweep ended`);
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

/** The sweep as CSV: header `lr,loss,smoothed_loss`, one line per step, full precision. */
export function lrFindCsv(points: readonly LrRangePoint[]): string {
  const lines = ['lr,loss,smoothed_loss', ...points.map((p) => `${p.lr},${p.loss},${p.smoothed}`)];
  return lines.join('\n') + '\n';
}

/**
 * The sweep as a self-contained SVG: loss and smoothed loss against log lr,
 * the suggested min and max (and the steepest point) marked. The y range stops
 * a little above the curve's start so the final blow-up does not flatten it.
 */
export function lrFindSvg(points: readonly LrRangePoint[], bounds: SuggestedBounds): string {
  const finite = points.filter((p) => p.lr > 0 && Number.isFinite(p.loss) && Number.isFinite(p.smoothed));
  let yDomain: [number, number] | undefined;
  if (finite.length > 0) {
    const values = finite.flatMap((p) => [p.loss, p.smoothed]);
    const lo = Math.min(...values);
    const startLevel = Math.max(...finite.slice(0, Math.max(1, Math.ceil(finite.length / 10))).map((p) => p.smoothed));
    const span = startLevel - lo;
    if (span > 0) {
      const hi = Math.min(Math.max(...values), startLevel + 0.5 * span);
      yDomain = [lo - 0.02 * (hi - lo), hi];
    }
  }
  return renderChart({
    title: 'LR range test',
    x: { title: 'learning rate (log scale)', scale: 'log' },
    y: { title: 'training loss', scale: 'linear', ...(yDomain ? { domain: yDomain } : {}) },
    series: [
      { name: 'loss', points: finite.map((p) => [p.lr, p.loss] as const), color: '#9ecae1' },
      { name: 'smoothed loss', points: finite.map((p) => [p.lr, p.smoothed] as const), color: '#08519c' },
    ],
    // The curve starts high on the left and blows up on the right: bottom left is free.
    legend: 'bottom-left',
    markers: [
      { x: bounds.min, label: `min ${formatLr(bounds.min)}`, color: '#2ca02c' },
      { x: bounds.max, label: `max ${formatLr(bounds.max)}`, color: '#d62728' },
      { x: bounds.steepest, label: `steepest ${formatLr(bounds.steepest)}`, color: '#ff7f0e' },
    ],
  });
}

function formatLr(lr: number): string {
  return lr.toExponential(2);
}
