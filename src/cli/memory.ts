/** Memory limits for `mono check` and `mono compile`: the default backend's and the machine's, or `--memory SIZE`. */
import os from 'node:os';
import type { CompileResult } from '../compile.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { machineLimit, tightest, wasmLimit, type MemoryLimit } from '../summary/limits.js';
import { memoryWarnings } from '../summary/memory-warnings.js';
import { formatBytes } from '../summary/units.js';
import { UsageError } from './command.js';

/** What `mono run` with the default backend (wasm) holds a plan to: 4 GiB, or the machine's memory when less. */
export function defaultMemoryLimit(): MemoryLimit {
  return tightest([wasmLimit(), machineLimit(os.totalmem())]);
}

/** A compilation's diagnostics plus a warning for each phase that would not fit the default limit. */
export function withMemoryWarnings(result: CompileResult, file: string): Diagnostic[] {
  if (!result.ir || !result.plan) return result.diagnostics;
  return [...result.diagnostics, ...memoryWarnings(result.ir, result.plan, file, defaultMemoryLimit())];
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** `24GiB`, `512 MiB`, `1.5GB`, `1000000` (bytes) -> bytes; anything else is a usage error. */
export function parseMemorySize(text: string, option = '--memory'): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!(bytes > 0)) throw new UsageError(`${option} expects a size such as 24GiB, 512MiB or 8GB, got '${text}'`);
  return bytes;
}

/** The limit `--memory SIZE` sets. */
export function givenMemoryLimit(bytes: number, text: string): MemoryLimit {
  return { source: '--memory', bytes, reason: `--memory ${text.trim()} is ${formatBytes(bytes)}`, maxTensorValues: Number.POSITIVE_INFINITY };
}
