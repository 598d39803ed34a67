import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/runtime/rng.js';

const draw = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.next());

describe('Rng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(draw(new Rng(42), 20)).toEqual(draw(new Rng(42), 20));
    expect(draw(new Rng(42), 20)).not.toEqual(draw(new Rng(43), 20));
    expect(draw(new Rng(0.5), 5)).not.toEqual(draw(new Rng(0), 5));
    expect(draw(new Rng(2 ** 40), 5)).not.toEqual(draw(new Rng(0), 5));
  });

  it('continues the same sequence after fromState(getState())', () => {
    const rng = new Rng(7);
    draw(rng, 13);
    rng.normal();
    const state = rng.getState();
    expect(state).toHaveLength(4);
    const copy = Rng.fromState(JSON.parse(JSON.stringify(state)) as number[]);
    expect([...draw(copy, 50), copy.normal(), copy.int(1000)]).toEqual([...draw(rng, 50), rng.normal(), rng.int(1000)]);
  });

  it('rejects invalid states and seeds', () => {
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(RangeError);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(RangeError);
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
    expect(() => new Rng(1).int(0)).toThrow(RangeError);
    expect(() => new Rng(1).int(2.5)).toThrow(RangeError);
  });

  it('draws uniform numbers in [0, 1) with the right mean and variance', () => {
    const rng = new Rng(1);
    const n = 100_000;
    let sum = 0;
    let squares = 0;
    const bins = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      squares += u * u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(outside).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(squares / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(600); // ~6 sigma
  });

  it('draws integers covering [0, n) evenly', () => {
    const rng = new Rng(2);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]!++;
    expect(counts.every((count) => Math.abs(count - 10_000) < 600)).toBe(true);
  });

  it('draws standard normals', () => {
    const rng = new Rng(3);
    const n = 100_000;
    let sum = 0;
    let squares = 0;
    let withinOneSigma = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      squares += z * z;
      if (Math.abs(z) < 1) withinOneSigma++;
    }
    expect(Number.isFinite(sum)).toBe(true);
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(squares / n).toBeCloseTo(1, 1);
    expect(withinOneSigma / n).toBeCloseTo(0.6827, 2);
  });

  it('shuffles arrays and Int32Arrays into permutations, each position uniformly', () => {
    const rng = new Rng(4);
    const firstPlace = new Array<number>(5).fill(0);
    let notPermutations = 0;
    for (let trial = 0; trial < 20_000; trial++) {
      const items = Int32Array.from([0, 1, 2, 3, 4]);
      rng.shuffle(items);
      if ([...items].sort().join() !== '0,1,2,3,4') notPermutations++;
      firstPlace[items[0]!]!++;
    }
    expect(notPermutations).toBe(0);
    for (const count of firstPlace) expect(Math.abs(count - 4000)).toBeLessThan(350);
    const words = ['a', 'b', 'c', 'd', 'e', 'f'];
    new Rng(5).shuffle(words);
    expect([...words].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const again = ['a', 'b', 'c', 'd', 'e', 'f'];
    new Rng(5).shuffle(again);
    expect(again).toEqual(words);
  });

  it('forks deterministic, independent child streams without advancing the parent', () => {
    const parent = new Rng(9);
    const before = parent.getState();
    const a = parent.fork(1);
    const b = parent.fork(2);
    expect(parent.getState()).toEqual(before);
    expect(draw(parent.fork(1), 10)).toEqual(draw(a, 10));
    expect(draw(b, 10)).not.toEqual(draw(parent.fork(1), 10));
    expect(draw(new Rng(9).fork(2), 10)).toEqual(draw(new Rng(9).fork(2), 10));
    expect(draw(parent.fork(3), 10)).not.toEqual(draw(new Rng(9), 10));
    // Children of different streams are uncorrelated.
    const x = draw(new Rng(11).fork(1), 5000);
    const y = draw(new Rng(11).fork(2), 5000);
    const mean = (v: number[]): number => v.reduce((s, t) => s + t, 0) / v.length;
    const mx = mean(x);
    const my = mean(y);
    const covariance = mean(x.map((value, i) => (value - mx) * (y[i]! - my)));
    expect(Math.abs(covariance / (1 / 12))).toBeLessThan(0.06);
  });
});
