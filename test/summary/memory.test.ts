import { fc, test } from '@fast-check/vitest';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { IR, OptimizerSpec } from '../../src/ir/types.js';
import { wasmLimit } from '../../src/summary/limits.js';
import {
  estimateAt, evaluationBatch, evaluationBytesPerExample, largestBatchWithin, phaseMemoryModel, stepGraphOf, stepMemoryModel,
  EVALUATION_HEADROOM,
} from '../../src/summary/memory.js';
import { memoryWarnings } from '../../src/summary/memory-warnings.js';
import { tinyIR } from '../runtime/tiny-ir.js';

function compiled(text: string, file: string, set: Record<string, string> = {}) {
  const result = compilePlan(text, file, { set });
  if (!result.ir || !result.plan) throw new Error(`${file}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return { ir: result.ir, plan: result.plan };
}
const shipped = (file: string, set: Record<string, string> = {}) => compiled(readFileSync(file, 'utf8'), file, set).ir;

const WIDE = `plan wide
data synthetic(examples: 256, classes: 4, shape: [8, 8, 1], noise: 0.1) {
  holdout 0
  batch 64
}
network input [8, 8, 1] {
  body: conv(1000000, 3) relu
  out: global_avg_pool dense(4)
}
partition p1 = body .. out
schedule {
  train p1 for 1 epoch with msgd(lr: 0.01, momentum: 0.9)
}
`;

const PLANS: IR[] = [
  shipped('plans/quickstart.mono'),
  shipped('plans/mi-lr.mono'),
  shipped('plans/monolithnet.mono', { width: '1', depth: '1' }),
  shipped('plans/monolithnet.mono'),
  tinyIR({ finetune: 1 }),
  compiled(WIDE, 'wide.mono').ir,
];

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const GiB = 2 ** 30;

describe('the memory model', () => {
  it('counts every parameter once, slots by optimizer, gradients of the trained parameters only', () => {
    const optimizers: OptimizerSpec[] = [
      { type: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0, lars: null },
      { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 0, lars: null },
      { type: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
    ];
    for (const [slots, optimizer] of optimizers.entries()) {
      const ir = tinyIR({ optimizer, shared: true });
      const byName = new Map(ir.parameters.map((spec) => [spec.name, spec]));
      const allValues = [...byName.values()].reduce((sum, spec) => sum + elements(spec.shape), 0);
      // p2 trains behind a frozen p1: p2's trainable parameters (the shared kernel once), no head.
      const p2Trained = [...byName.values()].filter((s) => s.partition === 'p2' && s.trainable).reduce((sum, s) => sum + elements(s.shape), 0);
      const p2 = estimateAt(phaseMemoryModel(ir, ir.phases[1]!), 16);
      expect(p2.weightsBytes).toBe(allValues * 4);
      expect(p2.optimizerBytes).toBe(slots * p2Trained * 4);
      expect(p2.peakAt).toBe('backward');
      expect(p2.gradientBytes).toBe(p2Trained * 4);
    }
  });

  it('counts cost per synapse as 4 more slots per trained parameter and 2 more copies in the optimizer step', () => {
    const ir = tinyIR({ shared: true });
    const plain = ir.phases[1]!;
    const withCost = { ...plain, synapseCost: { c: 1, damping: 1e-3 } };
    const p2Trained = ir.parameters.filter((s) => s.partition === 'p2' && s.trainable).reduce((sum, s) => sum + elements(s.shape), 0);
    const before = stepMemoryModel(ir, stepGraphOf(plain));
    const after = stepMemoryModel(ir, stepGraphOf(withCost));
    expect(after.optimizer - before.optimizer).toBe(4 * p2Trained * 4);
    const optimizerStep = (model: typeof before) => model.moments.find((m) => m.what === 'optimizer step')!.bytes.fixed;
    expect(optimizerStep(after) - optimizerStep(before)).toBe((4 + 2) * p2Trained * 4);
  });

  test.prop([fc.nat(PLANS.length - 1), fc.nat(10), fc.double({ min: 1e6, max: 200 * GiB, noNaN: true })])(
    'the largest batch within a limit fits it, one more does not',
    (planIndex, phaseIndex, limit) => {
      const ir = PLANS[planIndex]!;
      const model = phaseMemoryModel(ir, ir.phases[phaseIndex % ir.phases.length]!);
      const largest = largestBatchWithin(model, limit);
      const peak = (batch: number) => estimateAt(model, batch).peakBytes;
      if (largest >= 1) expect(peak(largest)).toBeLessThanOrEqual(limit);
      expect(peak(largest + 1)).toBeGreaterThan(limit);
      // more examples never need less memory
      expect(peak(largest + 2)).toBeGreaterThanOrEqual(peak(largest + 1));
    },
  );

  it('counts the frozen prefix forward only: a later partition needs less than the fine-tune', () => {
    const ir = PLANS[0]!;
    const [p1, p2, p3, finetune] = ir.phases.map((phase) => estimateAt(phaseMemoryModel(ir, phase), ir.data.batch));
    for (const phase of [p1!, p2!, p3!]) {
      expect(phase.peakBytes).toBeLessThan(finetune!.peakBytes);
      expect(phase.gradientBytes).toBeLessThan(finetune!.gradientBytes);
      expect(phase.weightsBytes).toBe(finetune!.weightsBytes);
    }
  });

  it('names the largest tensor, and keeps a batch within the values one typed array holds', () => {
    const ir = PLANS[5]!;
    const model = phaseMemoryModel(ir, ir.phases[0]!);
    expect(estimateAt(model, 64).largestTensor).toEqual({ name: 'body.conv1', shape: [64, 8, 8, 1_000_000], bytes: 64 * 64e6 * 4 });
    // 2^32 values / 64e6 values per example
    expect(largestBatchWithin(model, Number.POSITIVE_INFINITY, 2 ** 32)).toBe(67);
    expect(largestBatchWithin(model, 4 * GiB)).toBe(3);
    expect(largestBatchWithin(model, wasmLimit().bytes)).toBe(2);
  });

  it('sizes evaluation batches within the training step of the same partitions', () => {
    for (const ir of PLANS) {
      for (const phase of ir.phases) {
        const view = stepGraphOf(phase);
        // What a step holds beyond the weights and the optimizer's slots (both resident while evaluating too).
        const model = stepMemoryModel(ir, { ...view, optimizer: 'sgd' });
        const budget = EVALUATION_HEADROOM * (estimateAt(model, ir.data.batch).peakBytes - model.weights);
        const batch = evaluationBatch(ir, view, 500);
        const perExample = evaluationBytesPerExample(ir, view);
        expect(batch).toBeGreaterThanOrEqual(1);
        expect(batch).toBeLessThanOrEqual(500);
        if (batch > 1) expect(batch * perExample).toBeLessThanOrEqual(budget);
        if (batch < 500) expect((batch + 1) * perExample).toBeGreaterThan(budget);
      }
    }
    // A smaller training batch gets a smaller evaluation batch.
    const small = structuredClone(PLANS[0]!);
    small.data.batch = 4;
    const view = stepGraphOf(small.phases[0]!);
    expect(evaluationBatch(small, view, 500)).toBeLessThan(evaluationBatch(PLANS[0]!, view, 500));
  });

  it('evaluation releases each output once consumed: far less than keeping every node output', () => {
    const ir = PLANS[2]!;
    const view = stepGraphOf(ir.phases[3]!); // finetune: the whole network
    const everyOutput = ir.nodes.reduce((sum, node) => sum + elements(node.shape), 0) * 4;
    expect(evaluationBytesPerExample(ir, view)).toBeLessThan(everyOutput / 3);
  });
});

describe('memory warnings', () => {
  it('warn at the phase line with the estimate, the limit and the largest batch that fits', () => {
    const { ir, plan } = compiled(WIDE, 'wide.mono');
    const [warning, ...rest] = memoryWarnings(ir, plan, 'wide.mono', wasmLimit());
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ severity: 'warning', code: 'memory-limit', file: 'wide.mono' });
    const trainLine = WIDE.split('\n').findIndex((line) => line.includes('train p1')) + 1;
    expect(warning!.range.start).toMatchObject({ line: trainLine, column: 3 });
    expect(warning!.message).toMatch(/^phase p1 needs about [\d.]+ GiB at batch 64; the wasm backend addresses at most 4 GiB \(3.6 GiB of tensors\); batch 2 would fit$/);
    expect(warning!.hint).toContain('batch (line 4)');
  });

  it('are silent for plans that fit', () => {
    for (const [file, set] of [['plans/quickstart.mono', {}], ['plans/monolithnet.mono', { width: '1', depth: '1' }]] as const) {
      const { ir, plan } = compiled(readFileSync(file, 'utf8'), file, set);
      expect(memoryWarnings(ir, plan, file, wasmLimit())).toEqual([]);
    }
  });
});
