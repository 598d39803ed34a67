import { didYouMean } from '../diagnostics/suggest.js';
import type { SourceRange } from '../syntax/location.js';
import type { Reporter } from './reporter.js';
import type { ValueType } from './types.js';
import { coerce } from './types.js';
import type { EvaluatedArgument, Value } from './values.js';
import { NO_RANGE } from '../syntax/location.js';

/** One formal parameter of a layer, optimizer, schedule, data source or block. */
export interface ParamSignature {
  name: string;
  type: ValueType;
  /** The default when the argument is absent; absent and not `optional` means required. */
  default?: () => Value;
  /** May be left out without a default (the caller derives a value). */
  optional?: boolean;
}

export interface Signature {
  /** What is called, for messages: `conv`, `msgd`, `block 'basic'`. */
  name: string;
  params: readonly ParamSignature[];
}

export type BoundArguments = Map<string, Value>;

/**
 * Binds positional and named arguments to a signature (positional ones fill the
 * parameters in order, like Python), checks every value's type, and fills
 * defaults. Reports every problem; returns undefined when there was any.
 */
export function bindArguments(
  signature: Signature,
  args: readonly EvaluatedArgument[],
  calleeLoc: SourceRange,
  reporter: Reporter,
): BoundArguments | undefined {
  const bound: BoundArguments = new Map();
  let ok = true;
  let sawNamed = false;
  // A plain loop, not forEach: this runs for every layer of a 10,000-block plan.
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    let param: ParamSignature | undefined;
    if (arg.name === undefined) {
      if (sawNamed) {
        reporter.error('positional-after-named', 'a positional argument cannot follow a named one', arg.loc);
        ok = false;
        continue;
      }
      param = signature.params[index];
      if (param === undefined) {
        const names = signature.params.map((p) => p.name).join(', ');
        reporter.error(
          'too-many-arguments',
          `${signature.name} takes at most ${signature.params.length} argument(s)${names ? ` (${names})` : ''}, but got ${args.length}`,
          arg.loc,
        );
        ok = false;
        continue;
      }
    } else {
      sawNamed = true;
      const name = arg.name;
      param = signature.params.find((p) => p.name === name);
      if (param === undefined) {
        reporter.error(
          'unknown-argument',
          `${signature.name} has no argument '${name}'`,
          arg.nameLoc ?? arg.loc,
          didYouMean(name, signature.params.map((p) => p.name)),
        );
        ok = false;
        continue;
      }
    }
    if (bound.has(param.name)) {
      reporter.error('duplicate-argument', `argument '${param.name}' of ${signature.name} is given twice`, arg.nameLoc ?? arg.loc);
      ok = false;
      continue;
    }
    const value = coerce(arg.value, param.type, `${signature.name} argument '${param.name}'`, reporter);
    if (value === undefined) {
      ok = false;
      bound.set(param.name, { kind: 'error', loc: arg.loc });
      continue;
    }
    bound.set(param.name, value);
  }
  for (const param of signature.params) {
    if (bound.has(param.name)) continue;
    if (param.default) bound.set(param.name, param.default());
    else if (!param.optional) {
      reporter.error('missing-argument', `${signature.name} is missing the required argument '${param.name}'`, calleeLoc);
      ok = false;
    }
  }
  return ok ? bound : undefined;
}

// ------------------------------------------------------------ defaults and readers

/** Default values; each is one shared (never mutated) object, since defaults are filled for every call. */
const constant = (value: Value) => () => value;
const noNames = () => [];
export const defaults = {
  number: (value: number) => constant({ kind: 'number', value, percent: false, loc: NO_RANGE }),
  word: (name: string) => constant({ kind: 'word', name, scopeNames: noNames, loc: NO_RANGE }),
  boolean: (value: boolean) => constant({ kind: 'boolean', value, loc: NO_RANGE }),
  string: (value: string) => constant({ kind: 'string', value, loc: NO_RANGE }),
};

/** Readers for bound arguments whose types were already checked. */
export function numberArg(args: BoundArguments, name: string): number {
  const value = args.get(name);
  return value?.kind === 'number' ? value.value : Number.NaN;
}

export function optionalNumberArg(args: BoundArguments, name: string): number | undefined {
  const value = args.get(name);
  return value?.kind === 'number' ? value.value : undefined;
}

export function booleanArg(args: BoundArguments, name: string): boolean {
  return args.get(name)?.kind === 'boolean' && (args.get(name) as { value: boolean }).value;
}

export function wordArg(args: BoundArguments, name: string): string | undefined {
  const value = args.get(name);
  return value?.kind === 'word' ? value.name : undefined;
}

export function stringArg(args: BoundArguments, name: string): string | undefined {
  const value = args.get(name);
  return value?.kind === 'string' ? value.value : undefined;
}

export function numberListArg(args: BoundArguments, name: string): number[] {
  const value = args.get(name);
  if (value?.kind !== 'list') return [];
  return value.items.map((item) => (item.kind === 'number' ? item.value : Number.NaN));
}

/** Where an argument was written, or `fallback` when it was defaulted. */
export function argumentLoc(args: BoundArguments, name: string, fallback: SourceRange): SourceRange {
  const loc = args.get(name)?.loc;
  return loc === undefined || loc === NO_RANGE ? fallback : loc;
}
