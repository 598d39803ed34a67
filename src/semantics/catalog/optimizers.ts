import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T, type NumberType } from '../types.js';

/** `lr:` is a positive number, or an MI-driven schedule that carries its own bounds (base lr = max). */
export const LR_VALUE = T.union(T.positive, T.call('lr schedule', 'mi', 'layerwise'));

/** A rate of the STDP rule: (0, 1], so that w +- a w(1 - w) stays in [0, 1]. */
const RATE = { kind: 'number', min: 0, minOpen: true, max: 1 } as NumberType;

/**
 * The spiking-network paper's STDP settings (../shared/research/seeds.md, section 6):
 * a_plus 0.002 doubling every 500 images up to 0.15, a_minus = 0.75 a_plus; one image
 * per update.
 */
export const STDP_DEFAULTS = { aPlus: 0.002, aMinusRatio: 0.75, growth: 2, growthEvery: 500, aMax: 0.15, batch: 1 } as const;

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
  [
    'stdp',
    {
      // The local rule of the spiking-network paper (docs/stdp.md): defaults from its settings.
      name: 'stdp',
      params: [
        { name: 'a_plus', type: RATE, default: defaults.number(STDP_DEFAULTS.aPlus) },
        // Absent: a_minus_ratio x a_plus (0.75, the paper's).
        { name: 'a_minus', type: { kind: 'number', min: 0, max: 1 } as NumberType, optional: true },
        { name: 'growth', type: { kind: 'number', min: 1 } as NumberType, default: defaults.number(STDP_DEFAULTS.growth) },
        { name: 'every', type: T.positiveInt, default: defaults.number(STDP_DEFAULTS.growthEvery) },
        { name: 'a_max', type: RATE, default: defaults.number(STDP_DEFAULTS.aMax) },
        { name: 'winners', type: T.positiveInt, optional: true },
        { name: 'batch', type: T.positiveInt, default: defaults.number(STDP_DEFAULTS.batch) },
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
