import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import {
  LR_FIND_MIN_DESCENT, LR_FIND_MIN_STEPS, LrRangeRecorder, lrAtStep, lrFindCsv, lrFindSvg, suggestBounds, sweepProblem, type LrRangePoint,
} from '../../src/optim/lr-range.js';
import { xmlProblems } from '../plot/well-formed.js';

/** A typical sweep: flat at 2.3, falls around lr = 1e-3 to ~0.3, blows up past ~0.3. */
function idealLoss(lr: number): number {
  return 2.3 - 2 / (1 + (1e-3 / lr) ** 1.5) + (lr / 0.3) ** 2;
}

/** Deterministic noise in [-amplitude, amplitude] (a small LCG, so the test is reproducible). */
function noise(seed: number, amplitude: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * amplitude;
  };
}

function sweep(steps: number, jitter: () => number): LrRangePoint[] {
  const recorder = new LrRangeRecorder();
  for (let i = 0; i < steps; i++) {
    const lr = lrAtStep(i, steps, 1e-7, 10);
    if (recorder.record(lr, idealLoss(lr) + jitter()).diverged) break;
  }
  return recorder.points();
}

describe('lrAtStep', () => {
  it('grows exponentially from `from` at step 0 to `to` at the last step', () => {
    expect(lrAtStep(0, 101, 1e-7, 10)).toBe(1e-7);
    expect(lrAtStep(100, 101, 1e-7, 10)).toBeCloseTo(10, 10);
    expect(lrAtStep(50, 101, 1e-7, 10)).toBeCloseTo(Math.sqrt(1e-7 * 10), 12);
    expect(lrAtStep(0, 1, 1e-3, 1)).toBe(1e-3);
    expect(() => lrAtStep(0, 10, 0, 1)).toThrow(/positive/);
  });

  test.prop([fc.integer({ min: 2, max: 1000 }), fc.double({ min: 1e-9, max: 1e-3, noNaN: true }), fc.double({ min: 1e-2, max: 100, noNaN: true })])(
    'a constant ratio between consecutive steps',
    (steps, from, to) => {
      const ratio = lrAtStep(1, steps, from, to) / lrAtStep(0, steps, from, to);
      for (let i = 1; i < steps; i++) {
        expect(lrAtStep(i, steps, from, to) / lrAtStep(i - 1, steps, from, to)).toBeCloseTo(ratio, 9);
      }
    },
  );
});

describe('LrRangeRecorder', () => {
  it('smooths with a bias-corrected EMA', () => {
    const recorder = new LrRangeRecorder({ beta: 0.5 });
    expect(recorder.record(1e-5, 1).smoothed).toBe(1); // bias correction: first value is the loss itself
    // avg = 0.5 * 0.5 + 0.5 * 3 = 1.75; / (1 - 0.25) = 2.3333
    expect(recorder.record(1e-4, 3).smoothed).toBeCloseTo(7 / 3, 14);
    expect(recorder.points()).toEqual([
      { lr: 1e-5, loss: 1, smoothed: 1 },
      { lr: 1e-4, loss: 3, smoothed: expect.closeTo(7 / 3, 14) },
    ]);
  });

  it('a constant loss stays constant after smoothing', () => {
    const recorder = new LrRangeRecorder();
    for (let i = 0; i < 50; i++) expect(recorder.record(i, 0.7).smoothed).toBeCloseTo(0.7, 12);
  });

  it('diverges when the smoothed loss passes divergeFactor x best, or at once on a non-finite loss', () => {
    const recorder = new LrRangeRecorder({ beta: 0, divergeFactor: 4 });
    expect(recorder.record(1, 1).diverged).toBe(false);
    expect(recorder.record(2, 0.5).diverged).toBe(false);
    expect(recorder.record(3, 2).diverged).toBe(false);
    expect(recorder.record(4, 2.01).diverged).toBe(true);
    const nan = new LrRangeRecorder().record(5, Number.NaN);
    expect(nan.diverged).toBe(true);
    const recorderInf = new LrRangeRecorder();
    recorderInf.record(1, 1);
    expect(recorderInf.record(2, Number.POSITIVE_INFINITY).diverged).toBe(true);
    expect(recorderInf.points()).toHaveLength(1);
  });
});

describe('suggestBounds', () => {
  it('finds the steepest descent and the minimum on a clean curve', () => {
    const points = sweep(200, () => 0);
    const bounds = suggestBounds(points);
    // The true steepest point is 1e-3; the EMA (beta 0.98, ~50-step memory) lags the
    // smoothed curve by about half a decade at 25 steps per decade.
    expect(bounds.steepest).toBeGreaterThan(1e-3);
    expect(bounds.steepest).toBeLessThan(1e-2);
    expect(bounds.minimumLoss).toBeGreaterThan(0.02);
    expect(bounds.minimumLoss).toBeLessThan(0.5);
    expect(bounds.max).toBeCloseTo(bounds.minimumLoss / 10, 15);
    expect(bounds.min).toBeGreaterThanOrEqual(bounds.max / 1000);
    expect(bounds.min).toBeLessThanOrEqual(bounds.max / 10);
    // The sweep stopped on divergence, well before lr = 10.
    expect((points.at(-1) as LrRangePoint).lr).toBeLessThan(10);
  });

  it('gives nearly the same bounds on a noisy curve', () => {
    const clean = suggestBounds(sweep(200, () => 0));
    for (const seed of [1, 2, 3]) {
      const noisy = suggestBounds(sweep(200, noise(seed, 0.15)));
      for (const key of ['max', 'steepest'] as const) {
        expect(Math.abs(Math.log10(noisy[key] / clean[key]))).toBeLessThan(0.5);
      }
    }
  });

  it('copes with short and degenerate curves', () => {
    expect(suggestBounds([{ lr: 0.1, smoothed: 1 }])).toEqual({ min: expect.closeTo(0.001, 15), max: 0.01, steepest: 0.1, minimumLoss: 0.1 });
    // Rising from the start: no descent, steepest falls back to the minimum.
    const rising = suggestBounds([{ lr: 1e-4, smoothed: 1 }, { lr: 1e-3, smoothed: 2 }, { lr: 1e-2, smoothed: 3 }]);
    expect(rising.minimumLoss).toBe(1e-4);
    expect(rising.steepest).toBe(1e-4);
    const two = suggestBounds([{ lr: 1e-3, smoothed: 2 }, { lr: 1e-2, smoothed: 1 }]);
    expect(two.minimumLoss).toBe(1e-2);
    expect(two.steepest).toBe(1e-3);
    expect(() => suggestBounds([])).toThrow(/no finite loss/);
    expect(() => suggestBounds([{ lr: 1, smoothed: Number.NaN }])).toThrow(/no finite loss/);
  });

  test.prop([
    fc.array(fc.record({ lr: fc.double({ min: 1e-8, max: 10, noNaN: true }), smoothed: fc.double({ min: 0, max: 10, noNaN: true }) }), {
      minLength: 1,
      maxLength: 60,
    }),
  ])('bounds are positive, ordered min < max, and the points it names are in the sweep', (raw) => {
    const points = [...raw].sort((a, b) => a.lr - b.lr);
    const bounds = suggestBounds(points);
    const lrs = points.map((p) => p.lr);
    expect(lrs).toContain(bounds.steepest);
    expect(lrs).toContain(bounds.minimumLoss);
    expect(bounds.min).toBeGreaterThan(0);
    expect(bounds.min).toBeLessThan(bounds.max);
    expect(bounds.max).toBeCloseTo(bounds.minimumLoss / 10, 12);
  });
});

describe('sweepProblem: when a sweep cannot suggest bounds', () => {
  /** A sweep over `steps` from `from` to `to` of the loss `f(lr)`, smoothed as the recorder does. */
  function curve(steps: number, f: (lr: number) => number, from = 1e-7, to = 10): LrRangePoint[] {
    const recorder = new LrRangeRecorder();
    for (let i = 0; i < steps; i++) {
      const lr = lrAtStep(i, steps, from, to);
      if (recorder.record(lr, f(lr)).diverged) break;
    }
    return recorder.points();
  }

  it('accepts a full sweep that descends and then diverges, noisy or not', () => {
    expect(sweepProblem(sweep(200, () => 0))).toBeNull();
    for (const seed of [1, 2, 3]) expect(sweepProblem(sweep(200, noise(seed, 0.15)))).toBeNull();
  });

  it('the reported case: 12 steps whose lowest loss is the first gave [1e-9, 1e-8]; both reasons are named', () => {
    const points = curve(12, (lr) => 2.3 + lr);
    expect(points).toHaveLength(12);
    expect(suggestBounds(points)).toMatchObject({ min: expect.closeTo(1e-9, 20), max: expect.closeTo(1e-8, 20) });
    const problem = sweepProblem(points)!;
    expect(problem).toContain(`only 12 steps recorded (at least ${LR_FIND_MIN_STEPS} needed)`);
    expect(problem).toContain('the lowest loss is at the first step (lr 1.00e-7): the loss never fell');
  });

  it('too few steps, even on a good curve', () => {
    const points = sweep(200, () => 0).slice(0, LR_FIND_MIN_STEPS - 1);
    expect(sweepProblem(points)).toMatch(new RegExp(`^only ${LR_FIND_MIN_STEPS - 1} steps recorded`));
    expect(sweepProblem([])).toBe(`only 0 steps recorded (at least ${LR_FIND_MIN_STEPS} needed)`);
  });

  it(`no descent: the smoothed loss must fall ${LR_FIND_MIN_DESCENT * 100}% below its start`, () => {
    // Falls 3% and rises again: a minimum inside the sweep, but too shallow.
    const shallow = curve(100, (lr) => 2.3 * (1 - 0.03 * Math.exp(-((Math.log10(lr) + 3) ** 2))) + (lr / 0.3) ** 2);
    expect(sweepProblem(shallow)).toMatch(/^no descent: the smoothed loss fell only \d\.\d% below its start \(at least 5% needed\)$/);
    const deeper = curve(100, (lr) => 2.3 * (1 - 0.3 * Math.exp(-((Math.log10(lr) + 3) ** 2))) + (lr / 0.3) ** 2);
    expect(sweepProblem(deeper)).toBeNull();
  });

  it('minimum at the last step: still falling when the sweep ended (no divergence)', () => {
    const falling = curve(100, (lr) => 2.3 - 2 / (1 + (1e-3 / lr) ** 1.5), 1e-7, 1e-2);
    expect(sweepProblem(falling)).toBe('the lowest loss is at the last step (lr 1.00e-2): the loss was still falling when the sweep ended');
  });
});

describe('output', () => {
  const points = sweep(120, noise(7, 0.05));
  const bounds = suggestBounds(points);

  it('writes CSV with the lr,loss,smoothed_loss header that parses back exactly', () => {
    const csv = lrFindCsv(points);
    const [header, ...rows] = csv.trimEnd().split('\n');
    expect(header).toBe('lr,loss,smoothed_loss');
    expect(rows.map((row) => row.split(',').map(Number))).toEqual(points.map((p) => [p.lr, p.loss, p.smoothed]));
  });

  it('draws a well-formed SVG with the log lr axis, both curves and the bounds', () => {
    const svg = lrFindSvg(points, bounds);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toContain('learning rate (log scale)');
    expect(svg).toContain('training loss');
    expect(svg).toContain('1e-6');
    expect(svg).toContain('>smoothed loss<');
    expect(svg).toContain(`max ${bounds.max.toExponential(2)}`);
    expect(svg).toContain(`min ${bounds.min.toExponential(2)}`);
    expect([...svg.matchAll(/<path /g)]).toHaveLength(2);
  });
});
