import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import {
  DEFAULT_THROUGHPUT, estimateRunTime, evaluationFlopsPerExample, formatDuration, formatRate, stepFlopsPerExample,
  trainingExamplesPerEpoch, type Throughput,
} from '../../src/summary/time.js';

const quickstart = compilePlan(readFileSync('plans/quickstart.mono', 'utf8'), 'plans/quickstart.mono').ir!;
const rate = (flopsPerSecond: number): Throughput => ({ backend: 'wasm', flopsPerSecond, source: 'measured' });

describe('training FLOPs of a step', () => {
  it('counts the frozen partitions forward, the trained ones and the loss head three times', () => {
    const [p1, p2, p3, finetune] = quickstart.phases as [typeof quickstart.phases[0], typeof quickstart.phases[0], typeof quickstart.phases[0], typeof quickstart.phases[0]];
    const flops = Object.fromEntries(quickstart.partitions.map((p) => [p.name, p.flops]));
    const head = Object.fromEntries(quickstart.partitions.map((p) => [p.name, p.head?.flops ?? 0]));
    expect(stepFlopsPerExample(quickstart, p1)).toBe(3 * (flops['p1']! + head['p1']!));
    expect(stepFlopsPerExample(quickstart, p2)).toBe(flops['p1']! + 3 * (flops['p2']! + head['p2']!));
    expect(stepFlopsPerExample(quickstart, p3)).toBe(flops['p1']! + flops['p2']! + 3 * flops['p3']!);
    expect(stepFlopsPerExample(quickstart, finetune)).toBe(3 * (flops['p1']! + flops['p2']! + flops['p3']!));
    expect(evaluationFlopsPerExample(quickstart, p2)).toBe(flops['p1']! + flops['p2']! + head['p2']!);
  });
});

describe('the run-time estimate', () => {
  it('knows the examples per epoch of the data sets it can count, after hold-out and limit', () => {
    expect(trainingExamplesPerEpoch(quickstart)).toBe(9_000); // the mnist package's 10,000, 1,000 held out
    const limited = compilePlan(readFileSync('plans/quickstart.mono', 'utf8').replace('holdout 1000', 'holdout 100\n  limit 500'), 'q.mono').ir!;
    expect(trainingExamplesPerEpoch(limited)).toBe(500);
    const idx = compilePlan(readFileSync('plans/quickstart.mono', 'utf8').replace('data mnist {', 'data idx("digits") {'), 'q.mono');
    expect(idx.ir && trainingExamplesPerEpoch(idx.ir)).toBeNull();
  });

  it('scales inversely with the throughput and adds up per phase', () => {
    const slow = estimateRunTime(quickstart, rate(1e9));
    const fast = estimateRunTime(quickstart, rate(4e9));
    expect(slow.seconds! / fast.seconds!).toBeCloseTo(4, 10);
    expect(slow.seconds).toBeCloseTo(slow.phases.reduce((sum, p) => sum + p.seconds!, 0), 6);
    const p1 = slow.phases[0]!;
    // 9,000 examples in full batches of 64: 140 steps of 64, plus the 1,000 hold-out digits forward.
    const phase = quickstart.phases[0]!;
    expect(p1.secondsPerEpoch).toBeCloseTo((stepFlopsPerExample(quickstart, phase) * 140 * 64 + evaluationFlopsPerExample(quickstart, phase) * 1000) / 1e9, 9);
    expect(p1.seconds).toBeCloseTo(p1.secondsPerEpoch! * phase.epochs, 9);
    expect(p1.secondsPerStep).toBeCloseTo((stepFlopsPerExample(quickstart, phase) * 64) / 1e9, 12);
  });

  it('has a documented default for wasm', () => {
    expect(DEFAULT_THROUGHPUT).toMatchObject({ backend: 'wasm', source: 'default' });
    expect(DEFAULT_THROUGHPUT.flopsPerSecond).toBeGreaterThan(1e8);
  });

  it('writes durations and rates for people', () => {
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(5400)).toBe('90 min');
    expect(formatDuration(3 * 3600)).toBe('3 h');
    expect(formatDuration(30 * 86400)).toBe('30 days');
    expect(formatDuration(1e9)).toBe('32 years');
    expect(formatRate(3.3e9)).toBe('3.3 GFLOP/s');
    expect(formatRate(320e6)).toBe('320 MFLOP/s');
  });
});
