/** Mini-batches of a split for one epoch: optional seeded shuffle, per-example augmentation. */
import type { Augmentation } from '../../ir/types.js';
import type { Rng } from '../rng.js';
import { Augmenter } from './augment.js';
import { identityOrder } from './holdout.js';
import { exampleLength, type Split } from './types.js';

export interface Batch {
  images: Float32Array;
  labels: Int32Array;
  size: number;
  /** Example shape: [h, w, c] or [n]. */
  shape: number[];
  /** Each example's index in the split (a cached frozen prefix's rows, src/runtime/prefix-cache.ts). */
  indices: Int32Array;
}

export interface EpochBatchOptions {
  batch: number;
  shuffle: boolean;
  /** Applied per example, in order; pass [] for evaluation. */
  augment: Augmentation[];
  rng: Rng;
  /** Skip the last, smaller batch. */
  dropLast?: boolean;
}

export function batchesPerEpoch(count: number, batch: number, dropLast = false): number {
  if (!Number.isInteger(batch) || batch <= 0) throw new RangeError(`batch size must be a positive whole number, got ${batch}`);
  return dropLast ? Math.floor(count / batch) : Math.ceil(count / batch);
}

/**
 * Yields the batches of one epoch. Every example appears exactly once (once per
 * epoch minus the dropped tail with dropLast). Each batch owns fresh buffers, so a
 * consumer may keep it. The Rng is drawn from only while iterating: the shuffle at
 * the first batch, then augmentation example by example.
 */
export function* epochBatches(split: Split, options: EpochBatchOptions): Generator<Batch> {
  const { batch, shuffle, augment, rng, dropLast = false } = options;
  const batches = batchesPerEpoch(split.count, batch, dropLast);
  const length = exampleLength(split.shape);
  const order = identityOrder(split.count);
  if (shuffle) rng.shuffle(order);
  const augmenter = new Augmenter(augment, split.shape);
  for (let b = 0; b < batches; b++) {
    const start = b * batch;
    const size = Math.min(batch, split.count - start);
    const images = new Float32Array(size * length);
    const labels = new Int32Array(size);
    const indices = new Int32Array(size);
    for (let k = 0; k < size; k++) {
      const example = order[start + k]!;
      indices[k] = example;
      images.set(split.images.subarray(example * length, (example + 1) * length), k * length);
      labels[k] = split.labels[example]!;
      if (augmenter.active) augmenter.apply(images, k * length, rng);
    }
    yield { images, labels, size, shape: [...split.shape], indices };
  }
}
