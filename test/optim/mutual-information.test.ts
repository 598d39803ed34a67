import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { confusionCounts, mutualInformation } from '../../src/optim/mutual-information.js';

const TOL = 1e-9;

describe('confusionCounts', () => {
  it('counts row-major [predicted][truth]', () => {
    const counts = confusionCounts([0, 1, 1, 2], [0, 0, 1, 2], 3);
    expect(Array.from(counts)).toEqual([1, 0, 0, 1, 1, 0, 0, 0, 1]);
  });

  it('rejects labels outside [0, classes) and length mismatches', () => {
    expect(() => confusionCounts([3], [0], 3)).toThrow(/predicted\[0\] = 3/);
    expect(() => confusionCounts([0], [0.5], 3)).toThrow(/truth\[0\]/);
    expect(() => confusionCounts([0, 1], [0], 3)).toThrow(/length/);
  });
});

describe('mutualInformation on hand-computed tables', () => {
  it('perfect prediction of 4 balanced classes gives I = H(Y) = 2 bits', () => {
    const mi = mutualInformation(confusionCounts([0, 1, 2, 3, 0, 1, 2, 3], [0, 1, 2, 3, 0, 1, 2, 3], 4), 4);
    expect(mi.bits).toBeCloseTo(2, 12);
    expect(mi.entropyTruth).toBeCloseTo(2, 12);
    expect(mi.entropyPredicted).toBeCloseTo(2, 12);
    expect(mi.normalized).toBeCloseTo(1, 12);
  });

  it('independent predicted and truth give 0', () => {
    // p(yhat, y) = p(yhat) p(y) with p(yhat) = (1/4, 3/4), p(y) = (1/2, 1/2).
    const mi = mutualInformation([1, 1, 3, 3], 2);
    expect(mi.bits).toBeCloseTo(0, 12);
    expect(mi.normalized).toBeCloseTo(0, 12);
    expect(mi.entropyTruth).toBeCloseTo(1, 12);
    expect(mi.entropyPredicted).toBeCloseTo(0.8112781244591328, 12);
  });

  it('a binary table with 3/4 correct matches the closed form 1 - H_b(1/4)', () => {
    // Balanced truth, symmetric errors: I = 1 - H_b(0.25) = 0.18872187554086717 bits.
    const mi = mutualInformation([3, 1, 1, 3], 2);
    expect(mi.bits).toBeCloseTo(0.18872187554086717, 12);
    expect(mi.normalized).toBeCloseTo(0.18872187554086717, 12);
  });

  it('constant truth has H(Y) = 0 and normalised MI 0', () => {
    const mi = mutualInformation([2, 0, 3, 0], 2);
    expect(mi.entropyTruth).toBe(0);
    expect(mi.bits).toBeCloseTo(0, 12);
    expect(mi.normalized).toBe(0);
  });

  it('always predicting one class carries no information', () => {
    const mi = mutualInformation(confusionCounts([1, 1, 1, 1], [0, 1, 2, 0], 3), 3);
    expect(mi.bits).toBeCloseTo(0, 12);
    expect(mi.entropyTruth).toBeCloseTo(1.5, 12);
  });

  it('an empty table gives zeros; malformed tables are rejected', () => {
    expect(mutualInformation([0, 0, 0, 0], 2)).toEqual({ bits: 0, normalized: 0, entropyTruth: 0, entropyPredicted: 0 });
    expect(() => mutualInformation([1, 2, 3], 2)).toThrow(/expected 4/);
    expect(() => mutualInformation([1, -1, 0, 0], 2)).toThrow(/not a finite non-negative/);
  });
});

/** A random classes x classes table of small counts. */
const table = fc
  .integer({ min: 1, max: 6 })
  .chain((classes) =>
    fc.record({
      classes: fc.constant(classes),
      counts: fc.array(fc.nat({ max: 20 }), { minLength: classes * classes, maxLength: classes * classes }),
      permutation: fc.shuffledSubarray(
        Array.from({ length: classes }, (_, i) => i),
        { minLength: classes, maxLength: classes },
      ),
    }),
  );

function permuteRowsAndColumns(counts: number[], classes: number, rows: number[], cols: number[]): number[] {
  const out = new Array<number>(classes * classes).fill(0);
  for (let p = 0; p < classes; p++) {
    for (let y = 0; y < classes; y++) {
      out[(rows[p] as number) * classes + (cols[y] as number)] = counts[p * classes + y] as number;
    }
  }
  return out;
}

function transpose(counts: number[], classes: number): number[] {
  const out = new Array<number>(classes * classes).fill(0);
  for (let p = 0; p < classes; p++) {
    for (let y = 0; y < classes; y++) out[y * classes + p] = counts[p * classes + y] as number;
  }
  return out;
}

describe('mutualInformation properties', () => {
  test.prop([table])('0 <= I <= min(H(Yhat), H(Y)) and normalised = I / H(Y) in [0, 1]', ({ classes, counts }) => {
    const mi = mutualInformation(counts, classes);
    expect(mi.bits).toBeGreaterThanOrEqual(-TOL);
    expect(mi.bits).toBeLessThanOrEqual(Math.min(mi.entropyPredicted, mi.entropyTruth) + TOL);
    expect(mi.normalized).toBeGreaterThanOrEqual(0);
    expect(mi.normalized).toBeLessThanOrEqual(1);
    if (mi.entropyTruth > 0) expect(mi.normalized).toBeCloseTo(mi.bits / mi.entropyTruth, 9);
  });

  test.prop([table])('invariant to relabelling the classes (same permutation on both)', ({ classes, counts, permutation }) => {
    const a = mutualInformation(counts, classes);
    const b = mutualInformation(permuteRowsAndColumns(counts, classes, permutation, permutation), classes);
    expect(b.bits).toBeCloseTo(a.bits, 9);
    expect(b.normalized).toBeCloseTo(a.normalized, 9);
  });

  test.prop([table])('invariant to permuting the predicted labels alone', ({ classes, counts, permutation }) => {
    const identity = Array.from({ length: classes }, (_, i) => i);
    const a = mutualInformation(counts, classes);
    const b = mutualInformation(permuteRowsAndColumns(counts, classes, permutation, identity), classes);
    expect(b.bits).toBeCloseTo(a.bits, 9);
    expect(b.entropyTruth).toBeCloseTo(a.entropyTruth, 9);
  });

  test.prop([table])('symmetric: swapping predicted and truth gives the same I, entropies swap', ({ classes, counts }) => {
    const a = mutualInformation(counts, classes);
    const b = mutualInformation(transpose(counts, classes), classes);
    expect(b.bits).toBeCloseTo(a.bits, 9);
    expect(b.entropyTruth).toBeCloseTo(a.entropyPredicted, 9);
    expect(b.entropyPredicted).toBeCloseTo(a.entropyTruth, 9);
  });

  test.prop([fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 50 })])(
    'perfect prediction gives I = H(Y) and normalised 1 whenever H(Y) > 0',
    (classes, raw) => {
      const labels = raw.map((v) => v % classes);
      const mi = mutualInformation(confusionCounts(labels, labels, classes), classes);
      expect(mi.bits).toBeCloseTo(mi.entropyTruth, 9);
      expect(mi.normalized).toBeCloseTo(mi.entropyTruth > 0 ? 1 : 0, 9);
    },
  );
});
