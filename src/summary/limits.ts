/**
 * Memory limits a plan's phases are held against, and how a phase that exceeds one
 * is described: the same words for `mono check`'s warning and `mono run`'s refusal.
 * No TensorFlow.js here (check and compile use it).
 */
import type { IR, PhaseSpec } from '../ir/types.js';
import { estimateAt, largestBatchWithin, phaseMemoryModel, WASM_HEAP_PER_TENSOR_BYTE, WASM_MEMORY_LIMIT_BYTES, type MemoryEstimate } from './memory.js';
import { formatBytes, formatCount } from './units.js';

export interface MemoryLimit {
  /** Where the limit comes from. */
  source: 'wasm' | 'machine' | 'typed-array' | '--memory' | 'webgpu' | 'gpu';
  bytes: number;
  /** Completes "… needs about 9.7 GiB at batch 128; ": `the wasm backend addresses at most 4 GiB`. */
  reason: string;
  /** The most values one tensor may hold (a typed array's length); Infinity when only `bytes` limits. */
  maxTensorValues: number;
  /** Completes "tensor x [..] holds 8.2G values at batch 64, " when `maxTensorValues` is exceeded (default: a typed array's). */
  tensorReason?: string;
}

/** The tensor bytes the wasm heap holds: 4 GiB, less its allocator's overhead. */
export const wasmLimit = (): MemoryLimit => ({
  source: 'wasm',
  bytes: Math.floor(WASM_MEMORY_LIMIT_BYTES / WASM_HEAP_PER_TENSOR_BYTE),
  reason: `the wasm backend addresses at most ${formatBytes(2 ** 32)} (${formatBytes(WASM_MEMORY_LIMIT_BYTES / WASM_HEAP_PER_TENSOR_BYTE)} of tensors)`,
  maxTensorValues: Number.POSITIVE_INFINITY,
});

export const machineLimit = (totalBytes: number): MemoryLimit => ({
  source: 'machine',
  bytes: totalBytes,
  reason: `this machine has ${formatBytes(totalBytes)} of memory`,
  maxTensorValues: Number.POSITIVE_INFINITY,
});

/**
 * What one tensor may be on the webgpu backend: a buffer of at most maxBufferSize,
 * and a kernel binds at most maxStorageBufferBindingSize of it (tfjs-backend-webgpu
 * binds each tensor whole and splits none), float32 values.
 */
export const webgpuTensorLimit = (adapter: { name: string; limits: { maxBufferSize: number; maxStorageBufferBindingSize: number } }): MemoryLimit => {
  const bytes = Math.min(adapter.limits.maxBufferSize, adapter.limits.maxStorageBufferBindingSize);
  const which = adapter.limits.maxStorageBufferBindingSize <= adapter.limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  return {
    source: 'webgpu',
    bytes: Number.POSITIVE_INFINITY,
    reason: '',
    maxTensorValues: Math.floor(bytes / 4),
    tensorReason: `more than the webgpu adapter ${adapter.name} binds in one kernel (${which} ${formatBytes(bytes)}: ${formatCount(Math.floor(bytes / 4))} float32 values)`,
  };
};

/** A GPU's own memory (as nvidia-smi reports it), for the webgpu backend on that GPU. */
export const gpuMemoryLimit = (totalBytes: number, name: string): MemoryLimit => ({
  source: 'gpu',
  bytes: totalBytes,
  reason: `the GPU (${name}) has ${formatBytes(totalBytes)} of memory`,
  maxTensorValues: Number.POSITIVE_INFINITY,
});

/** The tightest of several limits (by bytes), each tensor limit kept (with its reason). */
export function tightest(limits: readonly MemoryLimit[]): MemoryLimit {
  const byBytes = limits.reduce((best, limit) => (limit.bytes < best.bytes ? limit : best));
  const byTensor = limits.reduce((best, limit) => (limit.maxTensorValues < best.maxTensorValues ? limit : best));
  const { tensorReason: _dropped, ...rest } = byBytes;
  return { ...rest, maxTensorValues: byTensor.maxTensorValues, ...(byTensor.tensorReason !== undefined ? { tensorReason: byTensor.tensorReason } : {}) };
}

/** A phase that does not fit a limit, with the numbers. */
export interface PhaseOverLimit {
  phase: PhaseSpec;
  estimate: MemoryEstimate;
  limit: MemoryLimit;
  /** The largest batch that fits (0: not even one example). */
  largestBatch: number;
  /** What batch 1 needs (when even that does not fit). */
  smallestBytes: number;
  /** Set when a single tensor is too large for one typed array: its values at the plan's batch. */
  tensorValues?: number;
}

/** The phases of `ir` whose training step would not fit `limit` at the plan's batch. */
export function phasesOverLimit(ir: IR, limit: MemoryLimit, phases: readonly PhaseSpec[] = ir.phases): PhaseOverLimit[] {
  const over: PhaseOverLimit[] = [];
  for (const phase of phases) {
    const model = phaseMemoryModel(ir, phase);
    const estimate = estimateAt(model, ir.data.batch);
    const tensorValues = estimate.largestTensor.bytes / 4;
    const tooBig = estimate.peakBytes > limit.bytes;
    const tensorTooBig = tensorValues > limit.maxTensorValues;
    if (!tooBig && !tensorTooBig) continue;
    const largestBatch = largestBatchWithin(model, limit.bytes, limit.maxTensorValues);
    const smallestBytes = estimateAt(model, 1).peakBytes;
    over.push({ phase, estimate, limit, largestBatch, smallestBytes, ...(tensorTooBig && !tooBig ? { tensorValues } : {}) });
  }
  return over;
}

/**
 * One line: `phase p1 needs about 9.7 GiB at batch 128; the wasm backend addresses at
 * most 4 GiB; batch 48 would fit`, or what keeps even batch 1 out.
 */
export function describeOverLimit({ phase, estimate, limit, largestBatch, smallestBytes, tensorValues }: PhaseOverLimit): string {
  const { batch, largestTensor } = estimate;
  const shape = `[${largestTensor.shape.join(', ')}]`;
  const need =
    tensorValues !== undefined
      ? `phase ${phase.name}: tensor ${largestTensor.name} ${shape} holds ${formatCount(tensorValues)} values at batch ${batch}, ` +
        (limit.tensorReason ?? `more than one typed array can hold (${formatCount(limit.maxTensorValues)})`)
      : `phase ${phase.name} needs about ${formatBytes(estimate.peakBytes)} at batch ${batch}; ${limit.reason}`;
  if (largestBatch >= 1) return `${need}; batch ${largestBatch} would fit`;
  return (
    `${need}; not even batch 1 fits (it needs about ${formatBytes(smallestBytes)}: ` +
    `parameters ${formatBytes(estimate.weightsBytes)}, optimizer slots ${formatBytes(estimate.optimizerBytes)}, ` +
    `and the trained parameters' gradients and the copies their backward pass keeps)`
  );
}
