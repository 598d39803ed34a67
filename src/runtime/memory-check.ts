/**
 * Refuses, before any tensor is allocated, a run whose phases cannot fit the chosen
 * backend's memory: the wasm heap (4 GiB), the machine's memory, and one typed array
 * per tensor. Every phase is checked up front, so a run never dies in phase 3 after
 * hours of phases 1 and 2. The estimate is src/summary/memory.ts's.
 */
import { constants } from 'node:buffer';
import os from 'node:os';
import type { IR, PhaseSpec } from '../ir/types.js';
import { formatBytes, summarizeIR } from '../summary/index.js';
import { describeOverLimit, machineLimit, phasesOverLimit, tightest, wasmLimit, type MemoryLimit } from '../summary/limits.js';
import type { BackendChoice } from './backend-choices.js';
import { RuntimeFailure } from './errors.js';

export class PlanTooLargeError extends RuntimeFailure {
  override name = 'PlanTooLargeError';
}

/**
 * What a backend can hold: the machine's memory; the wasm heap's 4 GiB as well on wasm;
 * and on every backend, one tensor's values in one typed array (the input batch is one
 * on the JavaScript side whatever the backend; the cpu backend keeps every tensor in one).
 */
export function memoryLimitOf(backend: BackendChoice, machineBytes: number = os.totalmem()): MemoryLimit {
  const typedArray: MemoryLimit = {
    source: 'typed-array',
    bytes: Number.POSITIVE_INFINITY,
    reason: '',
    maxTensorValues: constants.MAX_LENGTH,
  };
  const limits = [machineLimit(machineBytes), typedArray];
  if (backend === 'wasm') limits.push(wasmLimit());
  return tightest(limits);
}

/**
 * Throws PlanTooLargeError (exit 3) naming the first phase that does not fit, with its
 * estimate, the limit and the largest batch that would fit, and the other phases that
 * do not fit either. `phases`: the ones that will run (all of them by default).
 */
export function assertPhasesFit(ir: IR, backend: BackendChoice, phases: readonly PhaseSpec[] = ir.phases, machineBytes?: number): void {
  const limit = memoryLimitOf(backend, machineBytes);
  assertNoiseProbesFit(ir, limit, phases);
  const over = phasesOverLimit(ir, limit, phases);
  const first = over[0];
  if (first === undefined) return;
  const others = over.slice(1).map((o) => o.phase.name);
  const also = others.length > 0 ? ` (${others.length === 1 ? 'phase' : 'phases'} ${others.join(', ')} do${others.length === 1 ? 'es' : ''} not fit either)` : '';
  throw new PlanTooLargeError(
    `${describeOverLimit(first)}${also}; estimated peak of one training step on the ${backend} backend, ` +
      `per phase in: mono compile ${ir.source.file} (docs/runtime.md, "Memory")`,
  );
}

/**
 * A `probe noise(...)` holds every example's gradient of the trained parameters at once
 * (then a copy stacked into one matrix): refused when that alone exceeds the limit.
 */
function assertNoiseProbesFit(ir: IR, limit: MemoryLimit, phases: readonly PhaseSpec[]): void {
  const names = new Set(phases.map((phase) => phase.name));
  for (const phase of summarizeIR(ir).phases) {
    const probe = phase.noiseProbe;
    if (!probe || !names.has(phase.name)) continue;
    const values = probe.gradientBytes / 4;
    const bytes = 2 * probe.gradientBytes;
    if (bytes <= limit.bytes && values <= limit.maxTensorValues) continue;
    throw new PlanTooLargeError(
      `phase ${phase.name}: its noise probe holds ${probe.examples} per-example gradients of ${phase.trainableParams} parameters ` +
        `(${formatBytes(bytes)} with the stacked copy); ${bytes > limit.bytes ? limit.reason : `one tensor holds at most ${limit.maxTensorValues} values`}; lower 'examples' in its 'probe noise(...)'`,
    );
  }
}
