import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T } from '../types.js';

/** `lr:` is a positive number, or an MI-driven schedule that carries its own bounds (base lr = max). */
export const LR_VALUE = T.union(T.positive, T.call('lr schedule', 'mi', 'layerwise'));

export const optimizerCatalog: ReadonlyMap<string, Signature> = new Map([
  [
    'msgd',
    {
      name: 'msgd',
      params: [
        { name: 'lr', type: LR_VALUE },
        { name: 'momentum', type: T.unitOpen, default: defaults.number(0.9) },
        { name: 'decay', type: T.nonNegative, default: defaults.number(0) },
        { name: 'lars', type: T.nonNegative, default: defaults.number(0) },
      ],
    },
  ],
  [
    'sgd',
    {
      name: 'sgd',
      params: [
        { name: 'lr', type: LR_VALUE },
        { name: 'decay', type: T.nonNegative, default: defaults.number(0) },
        { name: 'lars', type: T.nonNegative, default: defaults.number(0) },
      ],
    },
  ],
  [
    'adam',
    {
      name: 'adam',
      params: [
        { name: 'lr', type: LR_VALUE, default: defaults.number(1e-3) },
        { name: 'beta1', type: T.unitOpen, default: defaults.number(0.9) },
        { name: 'beta2', type: T.unitOpen, default: defaults.number(0.999) },
        { name: 'eps', type: T.positive, default: defaults.number(1e-7) },
        { name: 'decay', type: T.nonNegative, default: defaults.number(0) },
      ],
    },
  ],
  [
    'rmsprop',
    {
      name: 'rmsprop',
      params: [
        { name: 'lr', type: LR_VALUE, default: defaults.number(1e-3) },
        { name: 'rho', type: T.unitOpen, default: defaults.number(0.9) },
        { name: 'eps', type: T.positive, default: defaults.number(1e-7) },
        { name: 'momentum', type: T.unitOpen, default: defaults.number(0) },
        { name: 'decay', type: T.nonNegative, default: defaults.number(0) },
      ],
    },
  ],
]);

/** Settings allowed in a phase body. */
export const PHASE_SETTINGS = ['lr', 'momentum', 'lr_mult', 'each', 'regularize', 'stop', 'probe'] as const;

/** `regularize synapse_cost(c: 0.1, damping: 1e-3)`: cost per synapse (docs/tasks.md). */
export const regularizerCatalog: ReadonlyMap<string, Signature> = new Map([
  [
    'synapse_cost',
    {
      name: 'synapse_cost',
      params: [
        { name: 'c', type: T.nonNegative },
        { name: 'damping', type: T.positive, default: defaults.number(1e-3) },
      ],
    },
  ],
]);
