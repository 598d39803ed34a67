import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import { assertPhasesFit, memoryLimitOf, PlanTooLargeError, type WebgpuMemory } from '../../src/runtime/memory-check.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const lavapipe: WebgpuMemory = { name: 'llvmpipe', cpu: true, limits: { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 128 * MiB } };
const gpu: WebgpuMemory = { name: 'NVIDIA H200', cpu: false, limits: { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 4 * GiB }, gpuMemoryBytes: 16 * GiB };
const monolithnet = (batch: number) => {
  const source = readFileSync('plans/monolithnet.mono', 'utf8').replace(/batch \d+/, `batch ${batch}`);
  return compilePlan(source, 'plans/monolithnet.mono', { set: { width: '1', depth: '1' } }).ir!;
};

describe('the memory check on webgpu', () => {
  it("holds each tensor to the adapter's largest binding, and a CPU adapter's step to the machine's memory", () => {
    const limit = memoryLimitOf('webgpu', 64 * GiB, lavapipe);
    expect(limit.maxTensorValues).toBe((128 * MiB) / 4);
    expect(limit.bytes).toBe(64 * GiB);
    expect(limit.reason).toBe('this machine has 64 GiB of memory');
  });

  it("holds a GPU adapter's step to the GPU's memory when nvidia-smi reports it, not the machine's", () => {
    expect(memoryLimitOf('webgpu', 2 * GiB, gpu)).toMatchObject({ source: 'gpu', bytes: 16 * GiB, reason: 'the GPU (NVIDIA H200) has 16 GiB of memory' });
    const { gpuMemoryBytes: _unknown, ...withoutMemory } = gpu;
    expect(memoryLimitOf('webgpu', 2 * GiB, withoutMemory).bytes).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses a plan whose tensor exceeds the binding limit, naming the tensor, the limit and a batch that fits', () => {
    // monolithnet width=1 at batch 1024: the stem's [1024, 32, 32, 16] output is 64 MiB; at 4096, 256 MiB.
    expect(() => assertPhasesFit(monolithnet(1024), 'webgpu', undefined, 1024 * GiB, lavapipe)).not.toThrow();
    let error: unknown;
    try {
      assertPhasesFit(monolithnet(4096), 'webgpu', undefined, 1024 * GiB, lavapipe);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanTooLargeError);
    expect((error as Error).message).toMatch(/^phase p1: tensor \S+ \[4096, 32, 32, 16\] holds 67.1M values at batch 4096, more than the webgpu adapter llvmpipe binds in one kernel \(maxStorageBufferBindingSize 128 MiB: 33.6M float32 values\); batch 2048 would fit/);
    expect((error as Error).message).toContain('on the webgpu backend');
  });
});
