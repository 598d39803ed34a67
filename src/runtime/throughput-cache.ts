/**
 * The throughput `mono doctor --bench` measured per backend, kept in `bench.json` in
 * mono's cache folder (src/runtime/data/cache.ts: $MONO_DATA or the platform's cache),
 * so that `mono compile` and `mono run` estimate times without TensorFlow.js.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_THROUGHPUT, type Throughput } from '../summary/time.js';
import { dataCacheRoot } from './data/cache.js';

export const BENCH_FILE = 'bench.json';

/** One backend's measurement. */
export interface BenchEntry {
  flopsPerSecond: number;
  /** Median ms of the timed steps, their count and batch. */
  stepMs: number;
  steps: number;
  batch: number;
  /** The bench net, in words. */
  net: string;
  /** ISO date and time. */
  measuredAt: string;
  /** CPU model x count, and the adapter on webgpu. */
  machine: string;
}

export interface BenchCache {
  version: 1;
  /** The backend `mono run` chose when the bench last ran (the one compile's estimate is for). */
  chosen: string | null;
  backends: Record<string, BenchEntry>;
}

export function benchFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataCacheRoot(env), BENCH_FILE);
}

function parse(text: string): BenchCache | undefined {
  try {
    const json = JSON.parse(text) as Partial<BenchCache>;
    if (json.version !== 1 || typeof json.backends !== 'object' || json.backends === null) return undefined;
    const backends = Object.fromEntries(
      Object.entries(json.backends).filter(([, e]) => typeof e?.flopsPerSecond === 'number' && e.flopsPerSecond > 0),
    );
    return { version: 1, chosen: typeof json.chosen === 'string' ? json.chosen : null, backends };
  } catch {
    return undefined;
  }
}

/** The cache, or an empty one when it is missing or unreadable (a damaged file is only a missing estimate). */
export function readBenchCache(env: NodeJS.ProcessEnv = process.env): BenchCache {
  try {
    return parse(readFileSync(benchFile(env), 'utf8')) ?? { version: 1, chosen: null, backends: {} };
  } catch {
    return { version: 1, chosen: null, backends: {} };
  }
}

/** Records one backend's measurement (and which backend is chosen), replacing the file atomically. */
export async function recordBench(backend: string, entry: BenchEntry, chosen: string | null, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = benchFile(env);
  let cache: BenchCache = { version: 1, chosen: null, backends: {} };
  try {
    cache = parse(await readFile(file, 'utf8')) ?? cache;
  } catch {
    // No cache yet.
  }
  cache.backends[backend] = entry;
  if (chosen !== null) cache.chosen = chosen;
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, JSON.stringify(cache, null, 2) + '\n');
  await rename(temporary, file);
  return file;
}

/** A measured throughput from the cache as a Throughput. */
function measured(backend: string, entry: BenchEntry): Throughput {
  return { backend, flopsPerSecond: entry.flopsPerSecond, source: 'measured', measuredAt: entry.measuredAt, machine: entry.machine };
}

/**
 * The throughput to estimate with: `backend`'s measurement when there is one; without
 * a backend named, the chosen backend's (else any measured one); else mono's default
 * (wasm on the project's build machine), for wasm or when no backend is named.
 */
export function throughputFor(cache: BenchCache, backend?: string): Throughput | undefined {
  if (backend !== undefined) {
    const entry = cache.backends[backend];
    if (entry) return measured(backend, entry);
    return backend === DEFAULT_THROUGHPUT.backend ? DEFAULT_THROUGHPUT : undefined;
  }
  const name = cache.chosen !== null && cache.backends[cache.chosen] ? cache.chosen : Object.keys(cache.backends)[0];
  return name !== undefined ? measured(name, cache.backends[name]!) : DEFAULT_THROUGHPUT;
}

/** Every measured backend, fastest first. */
export function measuredThroughputs(cache: BenchCache): Throughput[] {
  return Object.entries(cache.backends)
    .map(([backend, entry]) => measured(backend, entry))
    .sort((a, b) => b.flopsPerSecond - a.flopsPerSecond);
}
