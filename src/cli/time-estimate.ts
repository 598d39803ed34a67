/**
 * Time estimates in words, for `mono compile` (per phase and for the whole run) and
 * `mono run` (a warning before a run estimated over a day). The throughput comes from
 * `mono doctor --bench` (src/runtime/throughput-cache.ts) or mono's default; no
 * TensorFlow.js is loaded.
 */
import type { IR } from '../ir/types.js';
import { measuredThroughputs, throughputFor, type BenchCache } from '../runtime/index.js';
import { estimateRunTime, formatDuration, formatRate, LONG_RUN_SECONDS, type RunTime, type Throughput } from '../summary/time.js';

/** Where a throughput comes from, in words. */
export function describeThroughput(t: Throughput): string {
  if (t.source === 'default') {
    return `${t.backend} at ${formatRate(t.flopsPerSecond)}: mono's default (the project's 2-core build machine), not this machine; mono doctor --bench measures it`;
  }
  return `${t.backend} at ${formatRate(t.flopsPerSecond)}, measured by mono doctor --bench on ${t.measuredAt?.slice(0, 10) ?? '?'} (${t.machine ?? 'this machine'})`;
}

/** The summary's time section: per phase (per step, per epoch, the phase) and the whole run. */
export function timeEstimateLines(ir: IR, cache: BenchCache, backend?: string): string[] {
  const throughput = throughputFor(cache, backend);
  if (throughput === undefined) {
    return [`Time: no measurement for the ${backend} backend; run mono doctor --bench --backend ${backend}`];
  }
  const estimate = estimateRunTime(ir, throughput);
  const lines = [`Time (estimated on ${describeThroughput(throughput)}; docs/runtime.md, "Time estimates"):`];
  if (estimate.examplesPerEpoch === null) lines.push('  examples per epoch unknown until the data is read (an idx folder): per step only');
  for (const phase of estimate.phases) {
    const perEpoch = phase.secondsPerEpoch === null ? '' : `, ${formatDuration(phase.secondsPerEpoch)} an epoch, ${formatDuration(phase.seconds!)} for ${phase.epochs} epoch${phase.epochs === 1 ? '' : 's'}`;
    lines.push(`  ${phase.phase}: ${formatDuration(phase.secondsPerStep)} a step${perEpoch}`);
  }
  if (estimate.seconds !== null) lines.push(`  whole run: ${formatDuration(estimate.seconds)}`);
  return lines;
}

/** The JSON form of the estimate (compile --json). */
export function timeEstimateJson(ir: IR, cache: BenchCache, backend?: string): RunTime | null {
  const throughput = throughputFor(cache, backend);
  return throughput === undefined ? null : estimateRunTime(ir, throughput);
}

/**
 * The warning `mono run` prints before a run estimated over 24 hours on `backend`,
 * naming a measured backend that would finish within a day, or the throughput one
 * would need; undefined when the run is shorter, or cannot be estimated.
 */
export function longRunWarning(ir: IR, backend: string, cache: BenchCache): string | undefined {
  const throughput = throughputFor(cache, backend);
  if (throughput === undefined) return undefined;
  const seconds = estimateRunTime(ir, throughput).seconds;
  if (seconds === null || seconds <= LONG_RUN_SECONDS) return undefined;
  const head = `this run is estimated at ${formatDuration(seconds)} on ${describeThroughput(throughput)}`;
  const practical = measuredThroughputs(cache)
    .filter((t) => t.backend !== backend)
    .map((t) => ({ t, seconds: estimateRunTime(ir, t).seconds! }))
    .find((c) => c.seconds <= LONG_RUN_SECONDS);
  if (practical) {
    return `${head}; on ${practical.t.backend} (measured ${formatRate(practical.t.flopsPerSecond)}) it would take about ${formatDuration(practical.seconds)}: mono run --backend ${practical.t.backend}`;
  }
  const needed = (throughput.flopsPerSecond * seconds) / LONG_RUN_SECONDS;
  return (
    `${head}; finishing within a day needs about ${formatRate(needed)}: a GPU backend, node-gpu (tfjs-node-gpu with CUDA) or ` +
    `webgpu on a GPU adapter (mono doctor says what this machine has; mono doctor --bench --backend NAME measures one)`
  );
}
