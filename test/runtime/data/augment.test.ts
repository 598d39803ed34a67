import { describe, expect, it } from 'vitest';
import { Augmenter, flipInPlace, shiftInPlace } from '../../../src/runtime/data/augment.js';
import { Rng } from '../../../src/runtime/rng.js';

const shape = [3, 4, 2] as const; // height 3, width 4, channels 2

/** Value at (y, x, c) encodes its position: 100y + 10x + c + 1 (never 0, so padding shows). */
function positional(offset = 0): Float32Array {
  const data = new Float32Array(offset + 24);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 2; c++) data[offset + (y * 4 + x) * 2 + c] = 100 * y + 10 * x + c + 1;
  return data;
}

const at = (data: Float32Array, y: number, x: number, c: number, offset = 0): number => data[offset + (y * 4 + x) * 2 + c]!;

describe('flip', () => {
  it('mirrors each row and keeps channels together', () => {
    const data = positional(5);
    flipInPlace(data, 5, shape);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 2; c++) expect(at(data, y, x, c, 5)).toBe(100 * y + 10 * (3 - x) + c + 1);
    expect(Array.from(data.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    flipInPlace(data, 5, shape);
    expect(data).toEqual(positional(5));
  });
});

describe('shift (crop of the zero-padded image)', () => {
  it('moves content by (dy, dx) and fills the uncovered border with zeros', () => {
    const scratch = new Float32Array(24);
    for (const [dy, dx] of [[1, 2], [-1, 0], [0, -3], [2, -1], [0, 0]] as const) {
      const data = positional();
      shiftInPlace(data, 0, shape, dy, dx, scratch);
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 4; x++) {
          const sy = y + dy;
          const sx = x + dx;
          const inside = sy >= 0 && sy < 3 && sx >= 0 && sx < 4;
          for (let c = 0; c < 2; c++) expect(at(data, y, x, c)).toBe(inside ? 100 * sy + 10 * sx + c + 1 : 0);
        }
      }
    }
  });

  it('gives all zeros when shifted past the edge', () => {
    const data = positional();
    shiftInPlace(data, 0, shape, 0, 4, new Float32Array(24));
    expect(data.every((v) => v === 0)).toBe(true);
  });
});

describe('Augmenter', () => {
  it('with crop pad 0 and no flip leaves the example unchanged', () => {
    const data = positional();
    new Augmenter([{ type: 'crop', pad: 0 }], shape).apply(data, 0, new Rng(1));
    expect(data).toEqual(positional());
  });

  it('flips about half of the examples, and each flipped one is an exact mirror', () => {
    const augmenter = new Augmenter([{ type: 'flip' }], shape);
    const rng = new Rng(2);
    const mirrored = positional();
    flipInPlace(mirrored, 0, shape);
    let flips = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const data = positional();
      augmenter.apply(data, 0, rng);
      const isMirror = data.every((v, i) => v === mirrored[i]);
      const isSame = data.every((v, i) => v === positional()[i]);
      expect(isMirror || isSame).toBe(true);
      if (isMirror) flips++;
    }
    expect(Math.abs(flips - 1000)).toBeLessThan(150);
  });

  it('crops keep the shape, use every offset in [-pad, pad], and are repeatable for a seed', () => {
    const augmenter = new Augmenter([{ type: 'crop', pad: 1 }, { type: 'flip' }], shape);
    const seen = new Set<string>();
    const rng = new Rng(3);
    for (let trial = 0; trial < 500; trial++) {
      const data = positional();
      augmenter.apply(data, 0, rng);
      expect(data.length).toBe(24);
      seen.add(Array.from(data).join());
    }
    expect(seen.size).toBe(18); // 3 x 3 shifts, each flipped or not
    const once = (seed: number): Float32Array => {
      const data = positional();
      augmenter.apply(data, 0, new Rng(seed));
      return data;
    };
    expect(once(9)).toEqual(once(9));
  });

  it('rejects negative or fractional padding', () => {
    expect(() => new Augmenter([{ type: 'crop', pad: -1 }], shape)).toThrow(RangeError);
    expect(() => new Augmenter([{ type: 'crop', pad: 1.5 }], shape)).toThrow(RangeError);
  });
});
