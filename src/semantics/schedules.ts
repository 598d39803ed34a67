import type { ScheduleSpec } from '../ir/types.js';
import { LR_ONLY_SCHEDULES, scheduleCatalog } from './catalog/schedules.js';
import type { Reporter } from './reporter.js';
import type { BoundArguments } from './signature.js';
import { argumentLoc, bindArguments, numberArg, numberListArg, optionalNumberArg, wordArg } from './signature.js';
import type { CallValue, Value } from './values.js';

export type ScheduleTarget = 'lr' | 'momentum';

export interface ScheduleContext {
  target: ScheduleTarget;
  /** The optimizer's value that the schedule starts from. */
  base: number;
  /** The phase's length, for sanity checks. */
  epochs: number;
}

/** Resolves a schedule call (already known to name a schedule) to its IR spec, checking its values. */
export function resolveSchedule(call: CallValue, context: ScheduleContext, reporter: Reporter): ScheduleSpec | undefined {
  const signature = scheduleCatalog.get(call.callee);
  if (signature === undefined) return undefined;
  if (context.target === 'momentum' && LR_ONLY_SCHEDULES.has(call.callee)) {
    reporter.error('lr-only-schedule', `'${call.callee}' drives the learning rate; it cannot schedule momentum`, call.calleeLoc);
    return undefined;
  }
  const args = bindArguments(signature, call.args, call.calleeLoc, reporter);
  if (args === undefined) return undefined;
  const momentumBelowOne = (...names: string[]): boolean => {
    if (context.target !== 'momentum') return true;
    let ok = true;
    for (const name of names) {
      const value = optionalNumberArg(args, name);
      if (value !== undefined && value >= 1) {
        reporter.error('value-out-of-range', `momentum ${call.callee} argument '${name}' expects a number in [0, 1), but got ${value}`, argumentLoc(args, name, call.calleeLoc));
        ok = false;
      }
    }
    return ok;
  };
  switch (call.callee) {
    case 'constant':
      return { type: 'constant' };
    case 'step':
      return { type: 'step', every: numberArg(args, 'every'), factor: numberArg(args, 'factor') };
    case 'multistep': {
      const milestones = numberListArg(args, 'milestones');
      if (milestones.some((milestone, index) => index > 0 && milestone <= milestones[index - 1]!)) {
        reporter.error('invalid-milestones', 'multistep milestones must be strictly increasing', argumentLoc(args, 'milestones', call.calleeLoc));
        return undefined;
      }
      return { type: 'multistep', milestones, factor: numberArg(args, 'factor') };
    }
    case 'exponential':
      return { type: 'exponential', gamma: numberArg(args, 'gamma') };
    case 'cosine':
      return momentumBelowOne('to') ? { type: 'cosine', to: numberArg(args, 'to') } : undefined;
    case 'linear':
      return momentumBelowOne('to') ? { type: 'linear', to: numberArg(args, 'to') } : undefined;
    case 'warmup':
      return resolveWarmup(call, args, context, reporter, momentumBelowOne('from'));
    case 'onecycle': {
      if (!momentumBelowOne('peak', 'end')) return undefined;
      // lr anneals far below its start; momentum cycles back to where it started (0.95 -> 0.85 -> 0.95).
      const end = optionalNumberArg(args, 'end') ?? (context.target === 'momentum' ? context.base : context.base / 1e4);
      return { type: 'onecycle', peak: numberArg(args, 'peak'), pct: numberArg(args, 'pct'), end };
    }
    case 'anneal': {
      if (!momentumBelowOne('to')) return undefined;
      const shape = wordArg(args, 'shape') === 'cosine' ? 'cosine' : 'linear';
      return { type: 'anneal', to: numberArg(args, 'to'), from: numberArg(args, 'from'), shape };
    }
    case 'plateau':
      return {
        type: 'plateau',
        factor: numberArg(args, 'factor'),
        patience: numberArg(args, 'patience'),
        threshold: numberArg(args, 'threshold'),
        min: numberArg(args, 'min'),
      };
    case 'mi':
      return resolveMi(call, args, reporter);
    case 'layerwise': {
      const max = optionalNumberArg(args, 'max') ?? context.base;
      const min = optionalNumberArg(args, 'min') ?? max / 100;
      if (!boundsInOrder(call, args, min, max, reporter)) return undefined;
      return { type: 'layerwise', by: 'mi', max, min, threshold: numberArg(args, 'threshold') };
    }
  }
  return undefined;
}

function resolveWarmup(call: CallValue, args: BoundArguments, context: ScheduleContext, reporter: Reporter, ok: boolean): ScheduleSpec | undefined {
  const epochs = numberArg(args, 'epochs');
  if (epochs > context.epochs) {
    reporter.warning('warmup-too-long', `the warmup lasts ${epochs} epochs, longer than the phase (${context.epochs})`, argumentLoc(args, 'epochs', call.calleeLoc));
  }
  const thenValue = args.get('then');
  const then = thenValue?.kind === 'call' ? resolveSchedule(thenValue, context, reporter) : undefined;
  if (!ok || then === undefined) return undefined;
  return { type: 'warmup', epochs, from: numberArg(args, 'from'), then };
}

function resolveMi(call: CallValue, args: BoundArguments, reporter: Reporter): ScheduleSpec | undefined {
  const max = numberArg(args, 'max');
  const min = numberArg(args, 'min');
  if (!boundsInOrder(call, args, min, max, reporter)) return undefined;
  const startValue: Value | undefined = args.get('start');
  const start = startValue?.kind === 'number' ? startValue.value : null;
  if (start !== null && (start < min || start > max)) {
    reporter.error('value-out-of-range', `mi start (${start}) must lie between min (${min}) and max (${max})`, argumentLoc(args, 'start', call.calleeLoc));
    return undefined;
  }
  const boundsFrom = wordArg(args, 'bounds') === 'lr_find' ? 'lr_find' : 'plan';
  return { type: 'mi', max, min, threshold: numberArg(args, 'threshold'), start, boundsFrom };
}

function boundsInOrder(call: CallValue, args: BoundArguments, min: number, max: number, reporter: Reporter): boolean {
  if (min <= max) return true;
  reporter.error('invalid-bounds', `${call.callee} min (${min}) is greater than max (${max})`, argumentLoc(args, 'min', call.calleeLoc));
  return false;
}
