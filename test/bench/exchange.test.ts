import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Augmentation } from '../../src/ir/types.js';
import { flipInPlace, shiftInPlace } from '../../src/runtime/data/augment.js';
import { epochBatches } from '../../src/runtime/data/batches.js';
import type { Split } from '../../src/runtime/data/dataset.js';
import { exampleLength } from '../../src/runtime/data/types.js';
import { Rng } from '../../src/runtime/rng.js';
import { epochOrder, runOrder, unsupportedByReplica, type AugmentMove } from '../../bench/pytorch/exchange.js';
import { tinyIR } from '../runtime/tiny-ir.js';

function randomSplit(count: number, shape: [number, number, number], seed: number): Split {
  const rng = new Rng(seed);
  const length = shape[0] * shape[1] * shape[2];
  return {
    images: Float32Array.from({ length: count * length }, () => rng.normal()),
    labels: Int32Array.from({ length: count }, () => rng.int(5)),
    count,
    shape,
  };
}

/** An example rebuilt from the recorded order and moves with mono's own shift / flip. */
function rebuild(split: Split, example: number, move: AugmentMove | undefined, augment: readonly Augmentation[]): Float32Array {
  const length = exampleLength(split.shape);
  const out = split.images.slice(example * length, (example + 1) * length);
  const scratch = new Float32Array(length);
  for (const step of augment) {
    if (step.type === 'crop' && move && (move.dy !== 0 || move.dx !== 0)) shiftInPlace(out, 0, split.shape as [number, number, number], move.dy, move.dx, scratch);
    if (step.type === 'flip' && move?.flip) flipInPlace(out, 0, split.shape as [number, number, number]);
  }
  return out;
}

/** The batches mono's trainer would see, and the same batches rebuilt from epochOrder, for one Rng seed. */
function compareEpoch(split: Split, batch: number, augment: Augmentation[], seed: number): void {
  const dropLast = split.count >= batch;
  const expected = [...epochBatches(split, { batch, shuffle: true, augment, rng: new Rng(seed), dropLast })];
  const { order, moves } = epochOrder(split.count, batch, augment, new Rng(seed));
  const length = exampleLength(split.shape);
  let entry = 0;
  for (const b of expected) {
    for (let k = 0; k < b.size; k++, entry++) {
      const example = order[entry]!;
      expect(b.labels[k]).toBe(split.labels[example]);
      expect(rebuild(split, example, moves?.[entry], augment)).toEqual(b.images.slice(k * length, (k + 1) * length));
    }
  }
  expect(entry).toBe(order.length);
}

describe('the data order handed to the PyTorch replica', () => {
  it('is the order mono draws, without augmentation (dropping the last partial batch)', () => {
    compareEpoch(randomSplit(37, [4, 4, 1], 1), 8, [], 11);
  });

  it('reproduces crop then flip, and flip then crop, example by example', () => {
    compareEpoch(randomSplit(30, [6, 7, 3], 2), 4, [{ type: 'crop', pad: 2 }, { type: 'flip' }], 12);
    compareEpoch(randomSplit(30, [6, 7, 3], 3), 4, [{ type: 'flip' }, { type: 'crop', pad: 3 }], 13);
    compareEpoch(randomSplit(9, [5, 5, 2], 4), 16, [{ type: 'crop', pad: 1 }], 14);
  });

  fcTest.prop(
    {
      pad: fc.integer({ min: 0, max: 4 }),
      order: fc.constantFrom<('crop' | 'flip')[]>(['crop'], ['flip'], ['crop', 'flip'], ['flip', 'crop']),
      height: fc.integer({ min: 1, max: 9 }),
      width: fc.integer({ min: 1, max: 9 }),
      seed: fc.integer({ min: 0, max: 1000 }),
    },
    { numRuns: 25 },
  )('matches mono for any crop pad, image size and order of crop and flip', ({ pad, order, height, width, seed }) => {
    const augment: Augmentation[] = order.map((type) => (type === 'crop' ? { type, pad } : { type }));
    compareEpoch(randomSplit(12, [height, width, 2], seed), 5, augment, seed + 1);
  });

  it('refuses two crops, which the replica does not rebuild', () => {
    expect(() => epochOrder(4, 2, [{ type: 'crop', pad: 1 }, { type: 'crop', pad: 2 }], new Rng(1))).toThrow(/at most one crop and one flip/);
  });

  it('spans every epoch of every phase from the run seed, each epoch a fresh shuffle', () => {
    const ir = tinyIR({ epochs: [2, 1], finetune: 1 });
    const { order, epochs } = runOrder(ir, 50, 5);
    expect(epochs.map((e) => `${e.phase}.${e.epoch}`)).toEqual(['p1.1', 'p1.2', 'p2.1', 'finetune.1']);
    expect(epochs.every((e) => e.count === 48 && e.steps === 3)).toBe(true);
    expect(order.length).toBe(4 * 48);
    const first = Array.from(order.subarray(0, 48));
    const second = Array.from(order.subarray(48, 96));
    expect(new Set(first).size).toBe(48);
    expect(first).not.toEqual(second);
    expect(Array.from(runOrder(ir, 50, 5).order)).toEqual(Array.from(order));
  });

  it('says up front which plans the replica cannot rebuild', () => {
    expect(unsupportedByReplica(tinyIR({ lr: { type: 'warmup', epochs: 1, from: 0, then: { type: 'onecycle', peak: 0.2, pct: 0.3, end: 0 } } }))).toBeUndefined();
    const mi = tinyIR({ lr: { type: 'warmup', epochs: 1, from: 0, then: { type: 'mi', max: 0.1, min: 0.001, threshold: 0.01, start: null, boundsFrom: 'plan' } } });
    expect(unsupportedByReplica(mi)).toMatch(/phase p1: .*'mi' schedule/);
    const lars = tinyIR({ optimizer: { type: 'msgd', lr: 0.1, momentum: 0.9, weightDecay: 0, lars: { eta: 0.001 } } });
    expect(unsupportedByReplica(lars)).toMatch(/LARS/);
  });
});
