/**
 * Normalisation along the last axis, x -> (x - mean[c]) / std[c], in place: per
 * channel for images [h, w, c], per feature for vectors [n].
 */
import type { Normalization } from '../../ir/types.js';
import { DataMismatchError } from './errors.js';
import { channelCount, formatExampleShape, type Split } from './types.js';

/** Below this a channel is treated as constant and only centred (std 1), not blown up. */
const MIN_STD = 1e-6;

export function channelStats(split: Split): { mean: number[]; std: number[] } {
  const channels = channelCount(split.shape);
  const sums = new Float64Array(channels);
  const squares = new Float64Array(channels);
  const { images } = split;
  for (let i = 0; i < images.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const value = images[i + c]!;
      sums[c]! += value;
      squares[c]! += value * value;
    }
  }
  const perChannel = images.length / channels;
  const mean = Array.from(sums, (sum) => (perChannel === 0 ? 0 : sum / perChannel));
  const std = Array.from(squares, (square, c) => {
    const variance = perChannel === 0 ? 0 : Math.max(0, square / perChannel - mean[c]! ** 2);
    const deviation = Math.sqrt(variance);
    return deviation < MIN_STD ? 1 : deviation;
  });
  return { mean, std };
}

/**
 * The mean and std that `normalization` applies, one per channel (feature) of the
 * training split. `origin` names the data in messages.
 */
export function resolveNormalization(normalization: Normalization, train: Split, origin = 'the data'): { mean: number[]; std: number[] } {
  const channels = channelCount(train.shape);
  switch (normalization.type) {
    case 'none':
      return { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
    case 'per_channel':
      return channelStats(train);
    case 'fixed': {
      const { mean, std } = normalization;
      // One value applies to every channel; otherwise one per channel.
      const broadcast = (values: number[], what: string): number[] => {
        if (values.length === 1) return new Array<number>(channels).fill(values[0]!);
        if (values.length !== channels) {
          const unit = train.shape.length === 1 ? 'feature' : 'channel';
          const has = `${channels} ${unit}${channels === 1 ? '' : 's'}`;
          const expected = channels === 1 ? '1 value' : `1 or ${channels} values`;
          throw new DataMismatchError(origin, `normalize fixed: ${what} has ${values.length} values, but the examples ${formatExampleShape(train.shape)} have ${has}; expected ${expected}`);
        }
        return [...values];
      };
      const fixedStd = broadcast(std, 'std');
      if (fixedStd.some((value) => !(value > 0))) throw new DataMismatchError(origin, `normalize fixed: std must be > 0, got ${JSON.stringify(std)}`);
      return { mean: broadcast(mean, 'mean'), std: fixedStd };
    }
  }
}

export function normalizeInPlace(split: Split, mean: readonly number[], std: readonly number[]): void {
  const channels = channelCount(split.shape);
  const scale = std.map((value) => 1 / value);
  const { images } = split;
  for (let i = 0; i < images.length; i += channels) {
    for (let c = 0; c < channels; c++) images[i + c] = (images[i + c]! - mean[c]!) * scale[c]!;
  }
}
