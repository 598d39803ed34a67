import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T } from '../types.js';

/** What a phase's `probe` setting measures. */
export const PROBE_VALUE = T.call('probe', 'noise');

/**
 * `probe noise(examples:, top:, every:)`: the covariance of per-example gradients of the
 * trained partitions (docs/noise-probe.md). 256 examples by default: the covariance of
 * n examples has rank at most n - 1, so fewer see fewer directions of the noise.
 */
export const probeCatalog: ReadonlyMap<string, Signature> = new Map([
  [
    'noise',
    {
      name: 'noise',
      params: [
        { name: 'examples', type: T.positiveInt, default: defaults.number(256) },
        { name: 'top', type: T.positiveInt, default: defaults.number(8) },
        { name: 'every', type: T.positiveInt, default: defaults.number(1) },
      ],
    },
  ],
]);
