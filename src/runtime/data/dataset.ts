/**
 * Entry point of the data layer: turns a plan's DataSpec into normalised training,
 * hold-out and (where the source has one) test splits.
 */
import type { DataSource, DataSpec } from '../../ir/types.js';
import { loadCifar10 } from './cifar10.js';
import { DataUnavailableError } from './errors.js';
import { splitHoldout } from './holdout.js';
import { loadFashionMnist, loadIdx } from './idx-sources.js';
import { loadMnistPackage } from './mnist-package.js';
import { normalizeInPlace, resolveNormalization } from './normalize.js';
import { makeSynthetic } from './synthetic.js';
import type { LoadedData, RawData } from './types.js';

export type { LoadedData, Split } from './types.js';
export { DataUnavailableError };

export interface LoadDataOptions {
  /** Folder that relative data paths start from (the plan file's folder); the cwd is tried after it. */
  baseDir?: string;
}

function loadSource(source: DataSource, seed: number, options: LoadDataOptions): Promise<RawData> {
  switch (source.type) {
    case 'mnist':
      return loadMnistPackage();
    case 'idx':
      return loadIdx(source.path, options);
    case 'fashion_mnist':
      return loadFashionMnist(source.path, options);
    case 'cifar10':
      return loadCifar10(source.path, options);
    case 'synthetic':
      return Promise.resolve(makeSynthetic(source, seed));
  }
}

/**
 * Loads the data set of `spec`: pixels scaled to [0, 1]; `spec.holdout` examples
 * taken out of the training data by a permutation seeded with `spec.seed` before
 * anything else; at most `spec.limit` (> 0) training examples kept; then every split
 * normalised with statistics of the training split only. Deterministic for a seed.
 * Throws DataUnavailableError when the files are not there.
 */
export async function loadData(spec: DataSpec, options: LoadDataOptions = {}): Promise<LoadedData> {
  const raw = await loadSource(spec.source, spec.seed, options);
  const { train, holdout } = splitHoldout(raw.train, spec.holdout, spec.limit, spec.seed);
  const { mean, std } = resolveNormalization(spec.normalize, train);
  const test = raw.test;
  for (const split of [train, holdout, test]) if (split) normalizeInPlace(split, mean, std);
  return { name: raw.name, classes: raw.classes, train, holdout, ...(test ? { test } : {}), mean, std };
}
