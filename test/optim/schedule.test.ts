import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import type { ScheduleSpec } from '../../src/ir/types.js';
import {
  createSchedule,
  needsLrFindBounds,
  withBounds,
  type EpochReport,
  type Schedule,
} from '../../src/optim/schedule.js';

/** Values at t = 0, 1/steps, ... over `epochs` epochs, calling endEpoch with reports[epoch] after each epoch. */
function trace(schedule: Schedule, epochs: number, steps: number, reports: EpochReport[] = []): number[] {
  const values: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let s = 0; s < steps; s++) values.push(schedule.valueAt(epoch + s / steps));
    schedule.endEpoch(reports[epoch] ?? { valLoss: 1 });
  }
  return values;
}

function isNonIncreasing(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v <= (values[i - 1] as number) + 1e-12);
}

function isNonDecreasing(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v >= (values[i - 1] as number) - 1e-12);
}

describe('time-driven schedules', () => {
  it('constant', () => {
    const s = createSchedule({ type: 'constant' }, 0.1, 5);
    expect([0, 2.5, 4.99].map((t) => s.valueAt(t))).toEqual([0.1, 0.1, 0.1]);
    expect(s.getState()).toEqual({});
  });

  it('step: factor every `every` epochs', () => {
    const s = createSchedule({ type: 'step', every: 2, factor: 0.5 }, 0.8, 6);
    expect([0, 1.99, 2, 3.5, 4, 5.9].map((t) => s.valueAt(t))).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.2]);
  });

  it('multistep: factor at each milestone passed', () => {
    const s = createSchedule({ type: 'multistep', milestones: [3, 7], factor: 0.1 }, 1, 10);
    expect(s.valueAt(2.9)).toBe(1);
    expect(s.valueAt(3)).toBeCloseTo(0.1, 15);
    expect(s.valueAt(6.5)).toBeCloseTo(0.1, 15);
    expect(s.valueAt(7)).toBeCloseTo(0.01, 15);
  });

  it('exponential: base * gamma^epoch, constant within an epoch', () => {
    const s = createSchedule({ type: 'exponential', gamma: 0.9 }, 2, 10);
    expect(s.valueAt(0)).toBe(2);
    expect(s.valueAt(0.99)).toBe(2);
    expect(s.valueAt(3)).toBeCloseTo(2 * 0.9 ** 3, 14);
    expect(s.valueAt(3.5)).toBeCloseTo(2 * 0.9 ** 3, 14);
  });

  it('cosine: base at 0, midpoint half way, approaches `to` at the end', () => {
    const s = createSchedule({ type: 'cosine', to: 0 }, 0.1, 10);
    expect(s.valueAt(0)).toBe(0.1);
    expect(s.valueAt(5)).toBeCloseTo(0.05, 14);
    expect(s.valueAt(2.5)).toBeCloseTo(0.05 * (1 + Math.SQRT1_2), 14);
    expect(s.valueAt(9.999)).toBeLessThan(1e-8);
    expect(isNonIncreasing(trace(s, 10, 7))).toBe(true);
  });

  it('linear: straight line base -> to', () => {
    const s = createSchedule({ type: 'linear', to: 0.85 }, 0.95, 4);
    expect(s.valueAt(0)).toBe(0.95);
    expect(s.valueAt(1)).toBeCloseTo(0.925, 14);
    expect(s.valueAt(3)).toBeCloseTo(0.875, 14);
  });

  it('warmup: linear from -> base, then `then` on its own clock over the remaining epochs', () => {
    const s = createSchedule({ type: 'warmup', epochs: 2, from: 0, then: { type: 'cosine', to: 0 } }, 0.4, 6);
    expect(s.valueAt(0)).toBe(0);
    expect(s.valueAt(1)).toBeCloseTo(0.2, 14);
    expect(s.valueAt(2)).toBeCloseTo(0.4, 14); // cosine restarts at base with 4 epochs
    expect(s.valueAt(4)).toBeCloseTo(0.2, 14); // half way through the cosine's 4 epochs
    expect(isNonDecreasing([0, 0.5, 1, 1.5, 1.99].map((t) => s.valueAt(t)))).toBe(true);
  });

  it('warmup feeds only post-warmup epochs to a plateau inside it', () => {
    const s = createSchedule(
      { type: 'warmup', epochs: 2, from: 0.01, then: { type: 'plateau', factor: 0.5, patience: 1, threshold: 0, min: 0 } },
      1,
      6,
    );
    // Two warmup epochs of worsening loss would trigger a reduction if they reached the plateau.
    trace(s, 2, 1, [{ valLoss: 1 }, { valLoss: 2 }]);
    expect(s.valueAt(2)).toBe(1);
    s.endEpoch({ valLoss: 1 }); // first plateau epoch: sets best
    s.endEpoch({ valLoss: 1 }); // no improvement, patience 1 -> halve
    expect(s.valueAt(4)).toBe(0.5);
  });

  it('onecycle: base -> peak at pct, then -> end, cosine-shaped; momentum moves opposite', () => {
    const lr = createSchedule({ type: 'onecycle', peak: 1, pct: 0.25, end: 0.001 }, 0.04, 8);
    expect(lr.valueAt(0)).toBe(0.04);
    expect(lr.valueAt(1)).toBeCloseTo((0.04 + 1) / 2, 14);
    expect(lr.valueAt(2)).toBeCloseTo(1, 14);
    expect(lr.valueAt(5)).toBeCloseTo((1 + 0.001) / 2, 14);
    const lrTrace = trace(lr, 8, 10);
    expect(isNonDecreasing(lrTrace.slice(0, 21))).toBe(true);
    expect(isNonIncreasing(lrTrace.slice(20))).toBe(true);

    const momentum = createSchedule({ type: 'onecycle', peak: 0.85, pct: 0.25, end: 0.95 }, 0.95, 8);
    expect(momentum.valueAt(0)).toBe(0.95);
    expect(momentum.valueAt(2)).toBeCloseTo(0.85, 14);
    const momentumTrace = trace(momentum, 8, 10);
    expect(isNonIncreasing(momentumTrace.slice(0, 21))).toBe(true);
    expect(isNonDecreasing(momentumTrace.slice(20))).toBe(true);
  });

  it('anneal: holds base until fraction `from`, then linear or cosine to `to`', () => {
    const linear = createSchedule({ type: 'anneal', to: 0.5, from: 0.5, shape: 'linear' }, 0.9, 10);
    expect(linear.valueAt(0)).toBe(0.9);
    expect(linear.valueAt(4.99)).toBe(0.9);
    expect(linear.valueAt(5)).toBe(0.9);
    expect(linear.valueAt(7.5)).toBeCloseTo(0.7, 14);
    const cosine = createSchedule({ type: 'anneal', to: 0.5, from: 0.5, shape: 'cosine' }, 0.9, 10);
    expect(cosine.valueAt(7.5)).toBeCloseTo(0.7, 14);
    expect(cosine.valueAt(6)).toBeCloseTo(0.5 + 0.2 * (1 + Math.cos(Math.PI * 0.2)), 14);
    expect(isNonIncreasing(trace(cosine, 10, 5))).toBe(true);
  });
});

describe('plateau', () => {
  const spec: ScheduleSpec = { type: 'plateau', factor: 0.1, patience: 2, threshold: 0.01, min: 0.0005 };

  it('reduces after `patience` epochs without relative improvement > threshold, never below min', () => {
    const s = createSchedule(spec, 0.1, 20);
    const losses = [1, 0.8, 0.795 /* < 1% better: bad */, 0.794 /* bad again: reduce */, 0.5, 0.5, 0.5 /* reduce */, 0.5, 0.5 /* reduce, floored */];
    const values = trace(s, losses.length, 1, losses.map((valLoss) => ({ valLoss })));
    const expected = [0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001];
    expect(values).toHaveLength(expected.length);
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 15));
    expect(s.valueAt(losses.length)).toBe(0.0005);
  });

  it('treats a non-finite loss as no improvement', () => {
    const s = createSchedule({ ...spec, patience: 1 }, 0.1, 5);
    s.endEpoch({ valLoss: 1 });
    s.endEpoch({ valLoss: Number.NaN });
    expect(s.valueAt(2)).toBeCloseTo(0.01, 15);
  });
});

describe('mi (MI-driven lr reconstruction)', () => {
  const spec: ScheduleSpec = { type: 'mi', max: 0.1, min: 0.001, threshold: 0.02, start: null, boundsFrom: 'plan' };

  it('starts at max (or start), holds while MI rises by more than threshold, then decays to max*(1-nMI)', () => {
    const s = createSchedule(spec, 0.5, 10);
    expect(s.valueAt(0)).toBe(0.1);
    s.endEpoch({ valLoss: 2, mi: 0.3 }); // first measurement: hold
    expect(s.valueAt(1)).toBe(0.1);
    s.endEpoch({ valLoss: 1, mi: 0.6 }); // +0.3: hold
    expect(s.valueAt(2)).toBe(0.1);
    s.endEpoch({ valLoss: 1, mi: 0.61 }); // +0.01 <= threshold: decay to 0.1 * 0.39
    expect(s.valueAt(3)).toBeCloseTo(0.039, 15);
    s.endEpoch({ valLoss: 1, mi: 0.5 }); // MI fell: target 0.05 is higher, so lr stays
    expect(s.valueAt(4)).toBeCloseTo(0.039, 15);
    s.endEpoch({ valLoss: 1, mi: 0.9999 }); // +0.5 rise: hold
    expect(s.valueAt(5)).toBeCloseTo(0.039, 15);
    s.endEpoch({ valLoss: 1, mi: 0.9999 }); // flat: target 1e-5 clamped to min
    expect(s.valueAt(6)).toBe(0.001);
  });

  it('takes a baseline (MI before the first step) as the previous measurement, without changing the lr', () => {
    const s = createSchedule(spec, 0.5, 10);
    s.baseline!({ valLoss: 1, mi: 0.6 });
    expect(s.valueAt(0)).toBe(0.1);
    s.endEpoch({ valLoss: 1, mi: 0.61 }); // +0.01 over the baseline: decays at the first epoch end
    expect(s.valueAt(1)).toBeCloseTo(0.039, 15);
    s.baseline!({ valLoss: 1, mi: 0 }); // only before the first measurement
    s.endEpoch({ valLoss: 1, mi: 0.8 }); // +0.19 over 0.61: hold
    expect(s.valueAt(2)).toBeCloseTo(0.039, 15);
    expect(createSchedule({ type: 'cosine', to: 0 }, 1, 3).baseline).toBeUndefined();
  });

  it('behind a warmup, takes the MI at the end of the warmup as its baseline', () => {
    const warmed = createSchedule({ type: 'warmup', epochs: 2, from: 0, then: spec }, 0.5, 10);
    expect(warmed.baseline).toBeUndefined(); // nothing to measure before a warmup
    warmed.endEpoch({ valLoss: 1, mi: 0.3 });
    warmed.endEpoch({ valLoss: 1, mi: 0.6 }); // the last warmup epoch: the baseline
    expect(warmed.valueAt(2)).toBe(0.1);
    warmed.endEpoch({ valLoss: 1, mi: 0.61 }); // +0.01 over the baseline: decays at once
    expect(warmed.valueAt(3)).toBeCloseTo(0.039, 15);
    const direct = createSchedule({ type: 'warmup', epochs: 0, from: 0, then: spec }, 0.5, 10);
    direct.baseline!({ valLoss: 1, mi: 0.6 });
    direct.endEpoch({ valLoss: 1, mi: 0.61 });
    expect(direct.valueAt(1)).toBeCloseTo(0.039, 15);
  });

  it('honours `start`, clamped into [min, max]', () => {
    expect(createSchedule({ ...spec, start: 0.05 }, 1, 3).valueAt(0)).toBe(0.05);
    expect(createSchedule({ ...spec, start: 5 }, 1, 3).valueAt(0)).toBe(0.1);
  });

  it('ignores epochs without an MI measurement', () => {
    const s = createSchedule(spec, 1, 5);
    s.endEpoch({ valLoss: 1, mi: 0.5 });
    s.endEpoch({ valLoss: 1 });
    s.endEpoch({ valLoss: 1, mi: Number.NaN });
    expect(s.valueAt(3)).toBe(0.1);
    s.endEpoch({ valLoss: 1, mi: 0.5 });
    expect(s.valueAt(4)).toBeCloseTo(0.05, 15);
  });

  it('layerwise behaves as mi for one group, starting at max', () => {
    const layer = createSchedule({ type: 'layerwise', by: 'mi', max: 0.1, min: 0.001, threshold: 0.02 }, 0.3, 10);
    const plain = createSchedule(spec, 0.3, 10);
    const reports = [0.2, 0.5, 0.51, 0.7, 0.7, 0.8].map((mi) => ({ valLoss: 1, mi }));
    expect(trace(layer, reports.length, 2, reports)).toEqual(trace(plain, reports.length, 2, reports));
  });

  it('lr_find bounds must be resolved with withBounds first', () => {
    const fromFind: ScheduleSpec = { ...spec, boundsFrom: 'lr_find', max: 0, min: 0 };
    expect(needsLrFindBounds(fromFind)).toBe(true);
    expect(needsLrFindBounds({ type: 'warmup', epochs: 1, from: 0, then: fromFind })).toBe(true);
    expect(needsLrFindBounds(spec)).toBe(false);
    expect(() => createSchedule(fromFind, 1, 3)).toThrow(/withBounds/);
    const resolved = withBounds({ type: 'warmup', epochs: 1, from: 0, then: fromFind }, { min: 0.002, max: 0.2 });
    expect(needsLrFindBounds(resolved)).toBe(false);
    expect(resolved).toEqual({ type: 'warmup', epochs: 1, from: 0, then: { ...spec, min: 0.002, max: 0.2 } });
    expect(createSchedule(resolved, 0.2, 3).valueAt(1)).toBe(0.2);
    expect(withBounds(spec, { min: 1, max: 2 })).toBe(spec);
  });

  test.prop([
    fc.double({ min: 1e-6, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 0.2, noNaN: true }),
    fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(undefined)), { maxLength: 30 }),
  ])('never increases, stays in [min, max], and holds while MI rises by more than threshold', (max, minFraction, threshold, mis) => {
    const min = max * minFraction;
    const s = createSchedule({ type: 'mi', max, min, threshold, start: null, boundsFrom: 'plan' }, 1, mis.length + 1);
    let previousLr = s.valueAt(0);
    let previousMi: number | null = null;
    mis.forEach((mi, epoch) => {
      s.endEpoch(mi === undefined ? { valLoss: 1 } : { valLoss: 1, mi });
      const lr = s.valueAt(epoch + 1);
      expect(lr).toBeLessThanOrEqual(previousLr);
      expect(lr).toBeGreaterThanOrEqual(min);
      expect(lr).toBeLessThanOrEqual(max);
      if (mi !== undefined) {
        if (previousMi === null || mi - previousMi > threshold) expect(lr).toBe(previousLr);
        previousMi = mi;
      }
      previousLr = lr;
    });
  });
});

// ------------------------------------------------------------ properties over all spec types

const positive = fc.double({ min: 1e-4, max: 2, noNaN: true });
const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const factor = fc.double({ min: 0.01, max: 1, noNaN: true });

const timeDriven: fc.Arbitrary<ScheduleSpec> = fc.oneof(
  fc.constant<ScheduleSpec>({ type: 'constant' }),
  fc.record({ type: fc.constant('step' as const), every: fc.integer({ min: 1, max: 5 }), factor }),
  fc.record({ type: fc.constant('multistep' as const), milestones: fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 4 }), factor }),
  fc.record({ type: fc.constant('exponential' as const), gamma: factor }),
  fc.record({ type: fc.constant('cosine' as const), to: positive }),
  fc.record({ type: fc.constant('linear' as const), to: positive }),
  fc.record({ type: fc.constant('onecycle' as const), peak: positive, pct: fraction, end: positive }),
  fc.record({ type: fc.constant('anneal' as const), to: positive, from: fraction, shape: fc.constantFrom('linear' as const, 'cosine' as const) }),
);

const epochDriven: fc.Arbitrary<ScheduleSpec> = fc.oneof(
  fc.record({ type: fc.constant('plateau' as const), factor, patience: fc.integer({ min: 0, max: 3 }), threshold: fc.double({ min: 0, max: 0.1, noNaN: true }), min: fc.double({ min: 0, max: 1e-3, noNaN: true }) }),
  fc.record({ type: fc.constant('mi' as const), max: positive, min: fc.double({ min: 0, max: 1e-4, noNaN: true }), threshold: fc.double({ min: 0, max: 0.1, noNaN: true }), start: fc.option(positive), boundsFrom: fc.constant('plan' as const) }),
  fc.record({ type: fc.constant('layerwise' as const), by: fc.constant('mi' as const), max: positive, min: fc.double({ min: 0, max: 1e-4, noNaN: true }), threshold: fc.double({ min: 0, max: 0.1, noNaN: true }) }),
);

const anySpec: fc.Arbitrary<ScheduleSpec> = fc.oneof(
  timeDriven,
  epochDriven,
  fc.record({ type: fc.constant('warmup' as const), epochs: fc.integer({ min: 0, max: 3 }), from: fc.double({ min: 0, max: 1, noNaN: true }), then: fc.oneof(timeDriven, epochDriven) }),
);

/** Every number a spec could move towards: its values can never leave [min, max] of these and base. */
function anchors(spec: ScheduleSpec, base: number): number[] {
  switch (spec.type) {
    case 'cosine':
    case 'linear':
      return [base, spec.to];
    case 'onecycle':
      return [base, spec.peak, spec.end];
    case 'anneal':
      return [base, spec.to];
    case 'plateau':
      return [base, Math.min(base, spec.min)];
    case 'mi':
    case 'layerwise':
      return [spec.min, spec.max];
    case 'warmup':
      return [spec.from, base, ...anchors(spec.then, base)];
    default:
      return [base, 0];
  }
}

const reportsArb = fc.array(
  fc.record({ valLoss: fc.double({ min: 0, max: 5, noNaN: true }), mi: fc.double({ min: 0, max: 1, noNaN: true }) }),
  { minLength: 1, maxLength: 12 },
);

describe('properties of every schedule type', () => {
  test.prop([anySpec, positive, reportsArb])('values are finite and within the anchors of the spec', (spec, base, reports) => {
    const epochs = reports.length;
    const s = createSchedule(spec, base, epochs);
    const a = anchors(spec, base);
    const lo = Math.min(...a) - 1e-12;
    const hi = Math.max(...a) + 1e-12;
    for (const v of trace(s, epochs, 4, reports)) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(lo);
      expect(v).toBeLessThanOrEqual(hi);
    }
  });

  test.prop([anySpec, positive, reportsArb, fc.nat()])(
    'a state round trip through JSON mid-phase continues identically',
    (spec, base, reports, cut) => {
      const epochs = reports.length;
      const split = cut % epochs;
      const original = createSchedule(spec, base, epochs);
      trace(original, split, 3, reports);
      const restored = createSchedule(spec, base, epochs);
      restored.setState(JSON.parse(JSON.stringify(original.getState())));
      const continuation = (s: Schedule): number[] => {
        const values: number[] = [];
        for (let epoch = split; epoch < epochs; epoch++) {
          for (let step = 0; step < 3; step++) values.push(s.valueAt(epoch + step / 3));
          s.endEpoch(reports[epoch] as EpochReport);
        }
        return values;
      };
      expect(continuation(restored)).toEqual(continuation(original));
    },
  );
});

describe('state validation', () => {
  it('rejects a state of another schedule type', () => {
    const plateau = createSchedule({ type: 'plateau', factor: 0.5, patience: 1, threshold: 0, min: 0 }, 1, 3);
    const mi = createSchedule({ type: 'mi', max: 1, min: 0, threshold: 0, start: null, boundsFrom: 'plan' }, 1, 3);
    expect(() => plateau.setState(mi.getState())).toThrow(/invalid plateau schedule state/);
    expect(() => mi.setState({})).toThrow(/invalid mi schedule state/);
  });

  it('rejects a phase without epochs and parameters that make a formula meaningless', () => {
    expect(() => createSchedule({ type: 'constant' }, 1, 0)).toThrow(/> 0 epochs/);
    expect(() => createSchedule({ type: 'step', every: 0, factor: 0.5 }, 1, 3)).toThrow(/every/);
    expect(() => createSchedule({ type: 'onecycle', peak: 1, pct: 1.5, end: 0 }, 1, 3)).toThrow(/pct/);
    expect(() => createSchedule({ type: 'anneal', to: 0, from: -0.1, shape: 'linear' }, 1, 3)).toThrow(/from/);
    expect(() => createSchedule({ type: 'plateau', factor: 2, patience: 1, threshold: 0, min: 0 }, 1, 3)).toThrow(/factor/);
    expect(() => createSchedule({ type: 'warmup', epochs: -1, from: 0, then: { type: 'constant' } }, 1, 3)).toThrow(/warmup/);
    expect(() => createSchedule({ type: 'mi', max: 0.01, min: 0.1, threshold: 0, start: null, boundsFrom: 'plan' }, 1, 3)).toThrow(/min <= max/);
  });
});
