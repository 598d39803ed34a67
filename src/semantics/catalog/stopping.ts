/**
 * Which epoch is best, and when a phase stops early: the schedule's `best METRIC`
 * setting and a phase's `stop early(...)` (docs/language.md, "Keeping the best epoch,
 * stopping early"). Both watch a hold-out metric.
 */
import type { Signature } from '../signature.js';
import { defaults } from '../signature.js';
import { T } from '../types.js';

/** Hold-out metrics that can choose the best epoch or stop a phase; val_loss is better when lower. */
export const MONITORED_METRICS = ['val_acc', 'val_loss'] as const;

/** The metric `best.bin` is chosen by when the schedule does not say `best`. */
export const DEFAULT_BEST_METRIC = 'val_acc';

/** Settings allowed in the schedule block, before its phases. */
export const SCHEDULE_SETTINGS = ['best'] as const;

/** `stop early(...)`: the value of a phase's `stop` setting. */
export const STOP_VALUE = T.call('stopping rule', 'early');

export const stoppingCatalog: ReadonlyMap<string, Signature> = new Map([
  [
    'early',
    {
      name: 'early',
      params: [
        // Absent: the schedule's `best` metric (val_acc by default).
        { name: 'monitor', type: T.enum(...MONITORED_METRICS), optional: true },
        { name: 'patience', type: T.positiveInt },
        { name: 'restore', type: T.boolean, default: defaults.boolean(false) },
        { name: 'min_delta', type: T.nonNegative, default: defaults.number(0) },
      ],
    },
  ],
]);
