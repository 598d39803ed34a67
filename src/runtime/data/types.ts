/** In-memory data shared by the loaders, the hold-out split, and batching. */

/** Examples of one split, NHWC: example i is images[i*h*w*c, (i+1)*h*w*c). */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  shape: [number, number, number];
}

/** A data set ready for training: held out, limited, normalised. */
export interface LoadedData {
  name: string;
  classes: number;
  train: Split;
  holdout: Split;
  test?: Split;
  /** Per-channel statistics that were subtracted / divided (0 and 1 for `none`). */
  mean: number[];
  std: number[];
}

/** What a loader returns: pixels scaled to [0, 1], nothing held out, not normalised. */
export interface RawData {
  name: string;
  classes: number;
  train: Split;
  test?: Split;
}

export function exampleLength(shape: readonly [number, number, number]): number {
  return shape[0] * shape[1] * shape[2];
}
