import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { IR } from '../../src/ir/types.js';
import { RuntimeFailure } from '../../src/runtime/errors.js';
import { assertPhasesFit, memoryLimitOf, PlanTooLargeError } from '../../src/runtime/memory-check.js';

const wide = (filters: number): IR => {
  const text = `plan wide
data synthetic(examples: 256, classes: 4, shape: [8, 8, 1], noise: 0.1) { batch 64 }
network input [8, 8, 1] {
  body: conv(${filters}, 3) relu
  out: global_avg_pool dense(4)
}
partition p1 = body .. out
schedule { train p1 for 1 epoch with msgd(lr: 0.01, momentum: 0.9) }
`;
  return compilePlan(text, 'wide.mono').ir!;
};
const shipped = (file: string, set: Record<string, string> = {}) => compilePlan(readFileSync(file, 'utf8'), file, { set }).ir!;
const GiB = 2 ** 30;

const failure = (run: () => void): PlanTooLargeError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error).toBeInstanceOf(PlanTooLargeError);
    return error as PlanTooLargeError;
  }
  throw new Error('expected PlanTooLargeError');
};

describe('the memory check before a run', () => {
  it('lets plans that fit through', () => {
    for (const ir of [shipped('plans/quickstart.mono'), shipped('plans/mi-lr.mono'), shipped('plans/monolithnet.mono', { width: '1', depth: '1' })]) {
      for (const backend of ['wasm', 'cpu', 'node'] as const) expect(() => assertPhasesFit(ir, backend, ir.phases, 16 * GiB)).not.toThrow();
    }
  });

  it('on wasm, holds every phase to the 4 GiB heap and names the others that do not fit', () => {
    const error = failure(() => assertPhasesFit(shipped('plans/monolithnet.mono'), 'wasm', undefined, 64 * GiB));
    expect(error.message).toMatch(/^phase p1 needs about 20.9 GiB at batch 128; the wasm backend addresses at most 4 GiB \(3.6 GiB of tensors\); batch \d+ would fit \(phases p2, p3, finetune do not fit either\); /);
    // Only the phases that will run: p3 alone does not fit even at batch 1.
    const ir = shipped('plans/monolithnet.mono');
    expect(failure(() => assertPhasesFit(ir, 'wasm', [ir.phases[2]!], 64 * GiB)).message).toMatch(/^phase p3 needs about 10.4 GiB at batch 128; the wasm backend addresses at most 4 GiB \(3.6 GiB of tensors\); not even batch 1 fits \(it needs about 5.\d GiB: parameters 1.6 GiB, optimizer slots 1.2 GiB/);
  });

  it("elsewhere, holds them to the machine's memory", () => {
    expect(failure(() => assertPhasesFit(wide(1_000_000), 'cpu', undefined, 8 * GiB)).message).toMatch(
      /^phase p1 needs about 80.7 GiB at batch 64; this machine has 8 GiB of memory; batch 6 would fit; estimated peak of one training step on the cpu backend/,
    );
    expect(memoryLimitOf('wasm', 2 * GiB).reason).toBe('this machine has 2 GiB of memory');
  });

  it('catches a tensor larger than one typed array holds, with its name', () => {
    // 64 x 8 x 8 x 2,000,000 = 8.2G values; a typed array holds 2^32 on Node 20.
    const error = failure(() => assertPhasesFit(wide(2_000_000), 'cpu', undefined, 2 ** 50));
    const perExample = 8 * 8 * 2_000_000;
    expect(error.message).toContain('phase p1: tensor body.conv1 [64, 8, 8, 2000000] holds 8.2G values at batch 64, more than one typed array can hold');
    expect(error.message).toContain(`batch ${Math.floor(memoryLimitOf('cpu', 2 ** 50).maxTensorValues / perExample)} would fit`);
  });
});
