import { describe, expect, it } from 'vitest';
import { batchesPerEpoch, epochBatches } from '../../../src/runtime/data/batches.js';
import type { Split } from '../../../src/runtime/data/types.js';
import { Rng } from '../../../src/runtime/rng.js';

/** Example i: every value i + 0.5, label i (so batches show which examples they hold). */
function numberedSplit(count: number, shape: [number, number, number] = [2, 2, 1]): Split {
  const length = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(count * length);
  for (let i = 0; i < count; i++) images.fill(i + 0.5, i * length, (i + 1) * length);
  return { images, labels: Int32Array.from({ length: count }, (_, i) => i), count, shape };
}

describe('batchesPerEpoch', () => {
  it('counts full batches plus the tail unless dropped', () => {
    expect(batchesPerEpoch(100, 10)).toBe(10);
    expect(batchesPerEpoch(101, 10)).toBe(11);
    expect(batchesPerEpoch(101, 10, true)).toBe(10);
    expect(batchesPerEpoch(0, 10)).toBe(0);
    expect(() => batchesPerEpoch(10, 0)).toThrow(RangeError);
  });
});

describe('epochBatches', () => {
  it('without shuffle or augmentation yields the split in order, unchanged', () => {
    const split = numberedSplit(7);
    const batches = [...epochBatches(split, { batch: 3, shuffle: false, augment: [], rng: new Rng(1) })];
    expect(batches.map((b) => b.size)).toEqual([3, 3, 1]);
    expect(batches.map((b) => [...b.labels])).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    const joined = new Float32Array(batches.reduce((n, b) => n + b.images.length, 0));
    let at = 0;
    for (const b of batches) {
      expect(b.shape).toEqual([2, 2, 1]);
      expect(b.images.length).toBe(b.size * 4);
      joined.set(b.images, at);
      at += b.images.length;
    }
    expect(joined).toEqual(split.images);
  });

  it('with crop pad 0 and no flip a batch equals its input examples', () => {
    const split = numberedSplit(5, [3, 3, 2]);
    const [batch] = [...epochBatches(split, { batch: 5, shuffle: false, augment: [{ type: 'crop', pad: 0 }], rng: new Rng(1) })];
    expect(batch!.images).toEqual(split.images);
  });

  it('when shuffling covers every example exactly once per epoch, in a new order each epoch', () => {
    const split = numberedSplit(103);
    const rng = new Rng(5);
    const orders: number[][] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      const order: number[] = [];
      for (const batch of epochBatches(split, { batch: 10, shuffle: true, augment: [], rng })) {
        for (let k = 0; k < batch.size; k++) {
          const label = batch.labels[k]!;
          expect(batch.images[k * 4]).toBe(label + 0.5); // image and label stay together
          order.push(label);
        }
      }
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
      orders.push(order);
    }
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
  });

  it('drops the short last batch when asked', () => {
    const batches = [...epochBatches(numberedSplit(25), { batch: 10, shuffle: true, augment: [], rng: new Rng(2), dropLast: true })];
    expect(batches.map((b) => b.size)).toEqual([10, 10]);
    expect(new Set(batches.flatMap((b) => [...b.labels])).size).toBe(20);
  });

  it('is repeatable from a saved Rng state', () => {
    const split = numberedSplit(40, [4, 4, 3]);
    const rng = new Rng(3);
    const options = { batch: 16, shuffle: true, augment: [{ type: 'crop', pad: 1 } as const, { type: 'flip' } as const] };
    [...epochBatches(split, { ...options, rng })]; // epoch 1
    const saved = rng.getState();
    const epoch2 = [...epochBatches(split, { ...options, rng })];
    const resumed = [...epochBatches(split, { ...options, rng: Rng.fromState(saved) })];
    expect(resumed).toEqual(epoch2);
  });

  it('augments examples: shape kept, some pixels moved', () => {
    const split = numberedSplit(50, [4, 4, 1]);
    // Make each example's pixels distinct so a shift or flip shows.
    for (let i = 0; i < split.images.length; i++) split.images[i] = (i % 16) + 1;
    const batches = [...epochBatches(split, { batch: 50, shuffle: false, augment: [{ type: 'crop', pad: 2 }, { type: 'flip' }], rng: new Rng(4) })];
    const images = batches[0]!.images;
    expect(images.length).toBe(split.images.length);
    let changed = 0;
    for (let e = 0; e < 50; e++) if (images.subarray(e * 16, e * 16 + 16).some((v, i) => v !== i + 1)) changed++;
    expect(changed).toBeGreaterThan(35);
    expect(split.images[0]).toBe(1); // the source split is never modified
  });

  it('batches a 10,000-example epoch of 28x28 images fast', () => {
    const split = numberedSplit(10_000, [28, 28, 1]);
    const rng = new Rng(6);
    const started = performance.now();
    let seen = 0;
    for (const batch of epochBatches(split, { batch: 128, shuffle: true, augment: [{ type: 'crop', pad: 2 }, { type: 'flip' }], rng })) seen += batch.size;
    const seconds = (performance.now() - started) / 1000;
    expect(seen).toBe(10_000);
    expect(seconds).toBeLessThan(2); // ~0.05 s on an idle core
  });
});
