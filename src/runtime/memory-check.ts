/**
 * Refuses, before any tensor is allocated, a run whose phases cannot fit the chosen
 * backend's memory: the wasm heap (4 GiB), the machine's memory, one typed array
 * per tensor, and on webgpu the adapter's largest buffer binding per tensor and the
 * GPU's memory. Every phase is checked up front, so a run never dies in phase 3 after
 * hours of phases 1 and 2. The estimate is src/summary/memory.ts's.
 */
import { constants } from 'node:buffer';
import os from 'node:os';
import type { IR, PhaseSpec } from '../ir/types.js';
import { formatBytes, summarizeIR } from '../summary/index.js';
import { describeOverLimit, gpuMemoryLimit, machineLimit, phasesOverLimit, tightest, wasmLimit, webgpuTensorLimit, type MemoryLimit } from '../summary/limits.js';
import type { BackendChoice } from './backend-choices.js';
import { RuntimeFailure } from './errors.js';
import { nvidiaGpuMemoryBytes } from './gpu/host.js';

export class PlanTooLargeError extends RuntimeFailure {
  override name = 'PlanTooLargeError';
}

/** The webgpu adapter a run is on: its limits, whether it is a CPU implementation, and the GPU's memory when known. */
export interface WebgpuMemory {
  name: string;
  cpu: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** The GPU's own memory (nvidia-smi); undefined when unknown: WebGPU does not report it. */
  gpuMemoryBytes?: number;
}

/** What the memory check needs of a webgpu adapter (the GPU's memory from nvidia-smi, for a GPU adapter). */
export function webgpuMemoryOf(adapter: Omit<WebgpuMemory, 'gpuMemoryBytes'> | undefined): WebgpuMemory | undefined {
  if (adapter === undefined) return undefined;
  const gpuMemoryBytes = adapter.cpu ? undefined : nvidiaGpuMemoryBytes();
  return { name: adapter.name, cpu: adapter.cpu, limits: adapter.limits, ...(gpuMemoryBytes !== undefined ? { gpuMemoryBytes } : {}) };
}

/**
 * What a backend can hold: the wasm heap's 4 GiB on wasm; on webgpu, each tensor within
 * the adapter's largest binding and the whole step within the GPU's memory when known
 * (a CPU adapter's memory is the machine's); the machine's memory on the others; and on
 * every backend, one tensor's values in one typed array (the input batch is one on the
 * JavaScript side whatever the backend; the cpu backend keeps every tensor in one).
 */
export function memoryLimitOf(backend: BackendChoice, machineBytes: number = os.totalmem(), webgpu?: WebgpuMemory): MemoryLimit {
  const typedArray: MemoryLimit = {
    source: 'typed-array',
    bytes: Number.POSITIVE_INFINITY,
    reason: '',
    maxTensorValues: constants.MAX_LENGTH,
  };
  const limits = [typedArray];
  if (backend === 'webgpu' && webgpu !== undefined) {
    limits.push(webgpuTensorLimit(webgpu));
    if (webgpu.cpu) limits.push(machineLimit(machineBytes));
    else if (webgpu.gpuMemoryBytes !== undefined) limits.push(gpuMemoryLimit(webgpu.gpuMemoryBytes, webgpu.name));
  } else limits.push(machineLimit(machineBytes));
  if (backend === 'wasm') limits.push(wasmLimit());
  return tightest(limits);
}

/**
 * Throws PlanTooLargeError (exit 3) naming the first phase that does not fit, with its
 * estimate, the limit and the largest batch that would fit, and the other phases that
 * do not fit either. `phases`: the ones that will run (all of them by default).
 */
export function assertPhasesFit(ir: IR, backend: BackendChoice, phases: readonly PhaseSpec[] = ir.phases, machineBytes?: number, webgpu?: WebgpuMemory): void {
  const limit = memoryLimitOf(backend, machineBytes, webgpu);
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
  // The summary only when a phase has a probe: most runs have none.
  if (!phases.some((phase) => phase.noiseProbe)) return;
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
