/**
 * Axes: the data domain, the d3 scale that maps it to pixels, and its ticks with
 * short labels. Scales and tick positions come from d3-scale; mono only decides
 * which log ticks to keep and how a label reads.
 */
import { scaleLinear, scaleLog } from 'd3-scale';
import type { AxisScale } from './spec.js';

export interface Tick {
  value: number;
  label: string;
}

/** Maps a data value to a pixel; `ticks` are the axis's tick values, labelled. */
export interface AxisMapping {
  map: (value: number) => number;
  ticks: Tick[];
}

/** Whether a value can be drawn on an axis of this scale. */
export function usable(value: number, scale: AxisScale): boolean {
  return Number.isFinite(value) && (scale === 'linear' || value > 0);
}

/** A non-empty domain covering the values (padded when they are all equal). */
export function dataDomain(values: readonly number[], scale: AxisScale): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const value of values) {
    if (!usable(value, scale)) continue;
    if (value < lo) lo = value;
    if (value > hi) hi = value;
  }
  if (lo > hi) return scale === 'log' ? [1, 10] : [0, 1];
  if (lo === hi) {
    if (scale === 'log') return [lo / 10 ** 0.5, hi * 10 ** 0.5];
    return lo === 0 ? [-1, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2];
  }
  return [lo, hi];
}

/** Short label for a tick value: plain decimals near 1, exponent form far from it (`1e-5`, `2.5e7`). */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return String(Number(value.toPrecision(6)));
  const [mantissa = '', exponent = ''] = value.toExponential().split('e');
  const shortMantissa = String(Number(Number(mantissa).toPrecision(4)));
  return `${shortMantissa}e${exponent.replace('+', '')}`;
}

/** About this many ticks on a linear axis (d3 picks 1-2-5 steps near it). */
const LINEAR_TICKS = 6;

/** The leading digit of a positive value (2 for 0.2, 5 for 500). */
function leadingDigit(value: number): number {
  return Math.round(value / 10 ** Math.floor(Math.log10(value) + 1e-9));
}

/**
 * Tick values inside the domain. Linear: d3's 1-2-5 steps. Log: d3's ticks, thinned
 * to the decades, with 2 and 5 kept as well when the range spans at most two decades
 * (d3 gives every multiple 1-9 there, too dense to label).
 */
export function ticks(domain: readonly [number, number], scale: AxisScale): Tick[] {
  const [lo, hi] = domain;
  let values: number[];
  // A span too small for a step between ticks (subnormal numbers, or equal ends): d3's
  // step underflows there (it fails on [5e-324, 1.5e-323]), so the ends are the ticks.
  if (!(Math.abs(hi - lo) > 1e-300 && Math.abs(hi - lo) > 1e-12 * Math.max(Math.abs(lo), Math.abs(hi)))) {
    values = lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)];
  } else if (scale === 'log') {
    const all = scaleLog().domain([lo, hi]).ticks();
    const keep = Math.log10(hi / lo) <= 2 ? [1, 2, 5] : [1];
    const thinned = all.filter((value) => keep.includes(leadingDigit(value)));
    values = thinned.length >= 2 ? thinned : all;
  } else {
    values = scaleLinear().domain([lo, hi]).ticks(LINEAR_TICKS);
  }
  return values.map((value) => ({ value, label: formatTick(value) }));
}

/** The axis over `domain`, mapped onto pixels from `from` (domain start) to `to` (domain end). */
export function axis(domain: readonly [number, number], scale: AxisScale, from: number, to: number): AxisMapping {
  const scaled = scale === 'log' ? scaleLog().domain([domain[0], domain[1]]) : scaleLinear().domain([domain[0], domain[1]]);
  scaled.range([from, to]);
  return { map: (value) => scaled(value), ticks: ticks(domain, scale) };
}

/**
 * The range of the y values of some series widened by `fraction` (default 5%) on each
 * side, in log space on a log axis, so no dot sits on the plot's frame.
 */
export function paddedDomain(series: readonly { points: readonly (readonly [number, number])[] }[], scale: AxisScale, fraction = 0.05): [number, number] {
  const [lo, hi] = dataDomain(series.flatMap((s) => s.points.map(([, y]) => y)), scale);
  if (scale === 'log') {
    const pad = 10 ** (fraction * Math.log10(hi / lo));
    return [lo / pad, hi * pad];
  }
  const pad = fraction * (hi - lo);
  return [lo - pad, hi + pad];
}
