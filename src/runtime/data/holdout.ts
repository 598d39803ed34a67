/** Hold-out split and training-size limit, by a seeded permutation of the training examples. */
import { Rng } from '../rng.js';
import { exampleLength, type Split } from './types.js';

/** A new split made of the given examples of `split`, in the given order. */
export function selectExamples(split: Split, indices: Int32Array): Split {
  const length = exampleLength(split.shape);
  const images = new Float32Array(indices.length * length);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const example = indices[k]!;
    images.set(split.images.subarray(example * length, (example + 1) * length), k * length);
    labels[k] = split.labels[example]!;
  }
  return { images, labels, count: indices.length, shape: [...split.shape] };
}

export function identityOrder(count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

/**
 * Permutes the training examples with `seed`, takes the first `holdout` of the
 * permutation out as the hold-out split, and keeps at most `limit` (0 = all) of the
 * rest for training, in permuted order, so a limit is a random subset, not the
 * first examples of the file (files are often sorted by class).
 */
export function splitHoldout(train: Split, holdout: number, limit: number, seed: number): { train: Split; holdout: Split } {
  if (!Number.isInteger(holdout) || holdout < 0) throw new RangeError(`holdout must be a whole number >= 0, got ${holdout}`);
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number >= 0, got ${limit}`);
  if (holdout >= train.count) {
    throw new RangeError(`holdout ${holdout} leaves no training examples: the data set has ${train.count}`);
  }
  const order = identityOrder(train.count);
  new Rng(seed).shuffle(order);
  const trainEnd = limit > 0 ? Math.min(train.count, holdout + limit) : train.count;
  return {
    holdout: selectExamples(train, order.subarray(0, holdout)),
    train: selectExamples(train, order.subarray(holdout, trainEnd)),
  };
}
