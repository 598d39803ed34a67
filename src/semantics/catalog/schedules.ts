import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T } from '../types.js';

export const SCHEDULE_NAMES = [
  'constant',
  'step',
  'multistep',
  'exponential',
  'cosine',
  'linear',
  'warmup',
  'onecycle',
  'anneal',
  'plateau',
  'mi',
  'layerwise',
] as const;

/** Schedules that a warmup may hand over to. */
const AFTER_WARMUP = SCHEDULE_NAMES.filter((name) => name !== 'warmup' && name !== 'mi' && name !== 'layerwise');

/** Schedules driven by held-out metrics: for the learning rate only. */
export const LR_ONLY_SCHEDULES: ReadonlySet<string> = new Set(['mi', 'layerwise', 'plateau']);

export const SCHEDULE_VALUE = T.call('schedule', ...SCHEDULE_NAMES);

const openFraction = { kind: 'number', min: 0, minOpen: true, max: 1, maxOpen: true, fraction: true } as const;

const signatures: Signature[] = [
  { name: 'constant', params: [] },
  {
    name: 'step',
    params: [
      { name: 'every', type: T.positive },
      { name: 'factor', type: T.factor, default: defaults.number(0.1) },
    ],
  },
  {
    name: 'multistep',
    params: [
      { name: 'milestones', type: T.list(T.positive, 1) },
      { name: 'factor', type: T.factor, default: defaults.number(0.1) },
    ],
  },
  { name: 'exponential', params: [{ name: 'gamma', type: T.factor }] },
  { name: 'cosine', params: [{ name: 'to', type: T.nonNegative, default: defaults.number(0) }] },
  { name: 'linear', params: [{ name: 'to', type: T.nonNegative }] },
  {
    name: 'warmup',
    params: [
      { name: 'epochs', type: T.positive },
      { name: 'from', type: T.nonNegative, default: defaults.number(0) },
      { name: 'then', type: T.call('schedule', ...AFTER_WARMUP), default: defaults.word('constant') },
    ],
  },
  {
    name: 'onecycle',
    params: [
      { name: 'peak', type: T.positive },
      { name: 'pct', type: openFraction, default: defaults.number(0.3) },
      { name: 'end', type: T.nonNegative, optional: true },
    ],
  },
  {
    name: 'anneal',
    params: [
      { name: 'to', type: T.nonNegative },
      { name: 'from', type: T.fraction, default: defaults.number(0.8) },
      { name: 'shape', type: T.enum('linear', 'cosine'), default: defaults.word('linear') },
    ],
  },
  {
    name: 'plateau',
    params: [
      { name: 'factor', type: T.factor, default: defaults.number(0.1) },
      { name: 'patience', type: T.nonNegativeInt, default: defaults.number(3) },
      { name: 'threshold', type: T.nonNegative, default: defaults.number(1e-4) },
      { name: 'min', type: T.nonNegative, default: defaults.number(0) },
    ],
  },
  {
    name: 'mi',
    params: [
      { name: 'max', type: T.positive },
      { name: 'min', type: T.positive },
      { name: 'threshold', type: T.nonNegative, default: defaults.number(0.01) },
      { name: 'start', type: T.union(T.enum('none'), T.positive), default: defaults.word('none') },
      { name: 'bounds', type: T.enum('plan', 'lr_find'), default: defaults.word('plan') },
    ],
  },
  {
    name: 'layerwise',
    params: [
      { name: 'by', type: T.enum('mi') },
      { name: 'max', type: T.positive, optional: true },
      { name: 'min', type: T.positive, optional: true },
      { name: 'threshold', type: T.nonNegative, default: defaults.number(0.01) },
    ],
  },
];

export const scheduleCatalog: ReadonlyMap<string, Signature> = new Map(signatures.map((signature) => [signature.name, signature]));
