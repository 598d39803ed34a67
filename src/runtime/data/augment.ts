/**
 * Training-time augmentation of single NHWC examples, in place inside a batch
 * buffer: random crop with zero padding (output keeps its size) and random
 * horizontal flip, drawn from a seeded Rng so a run can be repeated.
 */
import type { Augmentation } from '../../ir/types.js';
import { RuntimeFailure } from '../errors.js';
import type { Rng } from '../rng.js';
import { formatExampleShape, isImageShape } from './types.js';

type Shape3 = readonly [number, number, number];

/**
 * Shifts the example at `offset` by (dy, dx) with zeros where it leaves the image,
 * the same as padding by `pad` on every side and cutting a window at (pad+dy, pad+dx).
 * `scratch` holds at least one example.
 */
export function shiftInPlace(data: Float32Array, offset: number, shape: Shape3, dy: number, dx: number, scratch: Float32Array): void {
  const [height, width, channels] = shape;
  const rowLength = width * channels;
  const length = height * rowLength;
  scratch.set(data.subarray(offset, offset + length));
  data.fill(0, offset, offset + length);
  const xFrom = Math.max(0, -dx);
  const xTo = Math.min(width, width - dx);
  if (xTo <= xFrom) return;
  for (let y = Math.max(0, -dy); y < Math.min(height, height - dy); y++) {
    // out(y, x) = in(y + dy, x + dx): one contiguous run of pixels per row
    const source = (y + dy) * rowLength + (xFrom + dx) * channels;
    data.set(scratch.subarray(source, source + (xTo - xFrom) * channels), offset + y * rowLength + xFrom * channels);
  }
}

/** Mirrors the example at `offset` left to right. */
export function flipInPlace(data: Float32Array, offset: number, shape: Shape3): void {
  const [height, width, channels] = shape;
  for (let y = 0; y < height; y++) {
    const row = offset + y * width * channels;
    for (let left = 0, right = width - 1; left < right; left++, right--) {
      for (let c = 0; c < channels; c++) {
        const a = row + left * channels + c;
        const b = row + right * channels + c;
        const held = data[a]!;
        data[a] = data[b]!;
        data[b] = held;
      }
    }
  }
}

/** Applies `augment` in order to one example; scratch space is allocated once per shape. */
export class Augmenter {
  private readonly scratch: Float32Array;
  private readonly shape: Shape3;

  constructor(
    private readonly augment: readonly Augmentation[],
    shape: readonly number[],
  ) {
    // The compiler refuses augmentation of vectors (augment-needs-images); this guards other callers.
    if (augment.length > 0 && !isImageShape(shape)) {
      throw new RuntimeFailure(`${augment.map((step) => step.type).join(', ')} augments images [h, w, c], but the examples are ${formatExampleShape(shape)}`);
    }
    this.shape = isImageShape(shape) ? shape : [1, 1, 1];
    for (const step of augment) {
      if (step.type === 'crop' && (!Number.isInteger(step.pad) || step.pad < 0)) {
        throw new RangeError(`crop pad must be a whole number >= 0, got ${step.pad}`);
      }
    }
    this.scratch = augment.some((step) => step.type === 'crop') ? new Float32Array(this.shape[0] * this.shape[1] * this.shape[2]) : new Float32Array(0);
  }

  get active(): boolean {
    return this.augment.length > 0;
  }

  apply(data: Float32Array, offset: number, rng: Rng): void {
    for (const step of this.augment) {
      if (step.type === 'crop') {
        const dy = rng.int(2 * step.pad + 1) - step.pad;
        const dx = rng.int(2 * step.pad + 1) - step.pad;
        if (dy !== 0 || dx !== 0) shiftInPlace(data, offset, this.shape, dy, dx, this.scratch);
      } else if (rng.next() < 0.5) {
        flipInPlace(data, offset, this.shape);
      }
    }
  }
}
