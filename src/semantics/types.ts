import { didYouMean } from '../diagnostics/suggest.js';
import type { SourceRange } from '../syntax/location.js';
import { reportUnknownName } from './evaluate.js';
import type { Reporter } from './reporter.js';
import type { CallValue, Value } from './values.js';
import { describeValue } from './values.js';

/** The type of an argument or setting value, with its allowed range. */
export type ValueType =
  | NumberType
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'enum'; words: readonly string[] }
  | { kind: 'list'; item: ValueType; minLength?: number }
  /** A call of one of `callees`; a bare word naming one of them is a call without arguments. */
  | { kind: 'call'; callees: readonly string[]; label: string }
  | { kind: 'union'; options: readonly ValueType[] }
  | { kind: 'any' };

export interface NumberType {
  kind: 'number';
  integer?: boolean;
  min?: number;
  minOpen?: boolean;
  max?: number;
  maxOpen?: boolean;
  /** Accepts a percentage, read as a fraction (`80%` -> 0.8). */
  fraction?: boolean;
}

export const T = {
  number: { kind: 'number' } as NumberType,
  positive: { kind: 'number', min: 0, minOpen: true } as NumberType,
  nonNegative: { kind: 'number', min: 0 } as NumberType,
  positiveInt: { kind: 'number', integer: true, min: 1 } as NumberType,
  nonNegativeInt: { kind: 'number', integer: true, min: 0 } as NumberType,
  /** [0, 1), e.g. momentum or a dropout rate. */
  unitOpen: { kind: 'number', min: 0, max: 1, maxOpen: true } as NumberType,
  /** (0, 1], e.g. a decay factor. */
  factor: { kind: 'number', min: 0, minOpen: true, max: 1, fraction: true } as NumberType,
  /** [0, 1], a point in a phase. */
  fraction: { kind: 'number', min: 0, max: 1, fraction: true } as NumberType,
  string: { kind: 'string' } as ValueType,
  boolean: { kind: 'boolean' } as ValueType,
  any: { kind: 'any' } as ValueType,
  enum: (...words: string[]): ValueType => ({ kind: 'enum', words }),
  list: (item: ValueType, minLength?: number): ValueType =>
    minLength === undefined ? { kind: 'list', item } : { kind: 'list', item, minLength },
  union: (...options: ValueType[]): ValueType => ({ kind: 'union', options }),
  call: (label: string, ...callees: string[]): ValueType => ({ kind: 'call', callees, label }),
};

export function describeType(type: ValueType): string {
  switch (type.kind) {
    case 'number':
      return describeNumberType(type);
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'enum':
      return type.words.length === 1 ? `'${type.words[0]}'` : `one of ${type.words.join(', ')}`;
    case 'list':
      return `a list of ${describeType(type.item).replace(/^an? /, '')}s`;
    case 'call':
      return `${type.label} (${type.callees.join(', ')})`;
    case 'union':
      return type.options.map(describeType).join(' or ');
    case 'any':
      return 'a value';
  }
}

function describeNumberType(type: NumberType): string {
  const base = type.integer ? 'an integer' : 'a number';
  const suffix = type.fraction ? ' (or a percentage)' : '';
  const { min, max } = type;
  if (min === 0 && type.minOpen && max === undefined) return `${type.integer ? 'a positive integer' : 'a positive number'}${suffix}`;
  if (min === 1 && !type.minOpen && max === undefined && type.integer) return 'a positive integer';
  if (min !== undefined && max !== undefined)
    return `${base} in ${type.minOpen ? '(' : '['}${min}, ${max}${type.maxOpen ? ')' : ']'}${suffix}`;
  if (min !== undefined) return `${base} ${type.minOpen ? '>' : '>='} ${min}${suffix}`;
  if (max !== undefined) return `${base} ${type.maxOpen ? '<' : '<='} ${max}${suffix}`;
  return base + suffix;
}

/**
 * Checks `value` against `type`; returns it normalised (percentages read as
 * fractions, words naming calls turned into calls), or undefined after reporting.
 * `what` names the slot for messages: `conv argument 'filters'`.
 */
export function coerce(value: Value, type: ValueType, what: string, reporter: Reporter): Value | undefined {
  if (value.kind === 'error') return undefined;
  switch (type.kind) {
    case 'any':
      return value;
    case 'number':
      return coerceNumber(value, type, what, reporter);
    case 'string':
    case 'boolean':
      if (value.kind === type.kind) return value;
      return mismatch(value, type, what, reporter);
    case 'enum':
      if (value.kind === 'word') {
        if (type.words.includes(value.name)) return value;
        reporter.error(
          'unknown-value',
          `${what} expects ${describeType(type)}, but got '${value.name}'`,
          value.loc,
          didYouMean(value.name, [...type.words, ...value.scopeNames()]),
        );
        return undefined;
      }
      return mismatch(value, type, what, reporter);
    case 'list': {
      if (value.kind !== 'list') return mismatch(value, type, what, reporter);
      if (type.minLength !== undefined && value.items.length < type.minLength) {
        reporter.error('type-mismatch', `${what} needs at least ${type.minLength} item(s)`, value.loc);
        return undefined;
      }
      const items: Value[] = [];
      let ok = true;
      for (const item of value.items) {
        const coerced = coerce(item, type.item, `an item of ${what}`, reporter);
        if (coerced === undefined) ok = false;
        else items.push(coerced);
      }
      return ok ? { kind: 'list', items, loc: value.loc } : undefined;
    }
    case 'call':
      return coerceCall(value, type, what, reporter);
    case 'union': {
      const option = type.options.find((candidate) => accepts(candidate, value));
      if (option !== undefined) return coerce(value, option, what, reporter);
      return mismatch(value, type, what, reporter);
    }
  }
}

/** Whether `value` has the right kind for `type` (range aside): used to pick a union option. */
function accepts(type: ValueType, value: Value): boolean {
  switch (type.kind) {
    case 'any':
      return true;
    case 'number':
    case 'string':
    case 'boolean':
    case 'list':
      return value.kind === type.kind;
    case 'enum':
      return value.kind === 'word' && type.words.includes(value.name);
    case 'call':
      return value.kind === 'call' || (value.kind === 'word' && type.callees.includes(value.name));
    case 'union':
      return type.options.some((option) => accepts(option, value));
  }
}

function coerceNumber(value: Value, type: NumberType, what: string, reporter: Reporter): Value | undefined {
  if (value.kind !== 'number') return mismatch(value, type, what, reporter);
  let number = value.value;
  if (value.percent) {
    if (!type.fraction) {
      reporter.error('type-mismatch', `${what} expects ${describeType(type)}; a percentage is not allowed here`, value.loc);
      return undefined;
    }
    number /= 100;
  }
  const outOfRange =
    (type.integer && !Number.isInteger(number)) ||
    (type.min !== undefined && (type.minOpen ? number <= type.min : number < type.min)) ||
    (type.max !== undefined && (type.maxOpen ? number >= type.max : number > type.max));
  if (outOfRange) {
    reporter.error('value-out-of-range', `${what} expects ${describeType(type)}, but got ${describeValue(value)}`, value.loc);
    return undefined;
  }
  return value.percent ? { kind: 'number', value: number, percent: false, loc: value.loc } : value;
}

function coerceCall(value: Value, type: { callees: readonly string[]; label: string }, what: string, reporter: Reporter): Value | undefined {
  if (value.kind === 'word') {
    if (type.callees.includes(value.name)) {
      const call: CallValue = { kind: 'call', callee: value.name, calleeLoc: value.loc, args: [], loc: value.loc };
      return call;
    }
    return unknownCallee(value.name, value.loc, type, reporter);
  }
  if (value.kind !== 'call') return mismatch(value, { kind: 'call', callees: type.callees, label: type.label }, what, reporter);
  if (type.callees.includes(value.callee)) return value;
  return unknownCallee(value.callee, value.calleeLoc, type, reporter);
}

function unknownCallee(name: string, loc: SourceRange, type: { callees: readonly string[]; label: string }, reporter: Reporter): undefined {
  reporter.error('unknown-name', `unknown ${type.label} '${name}'; expected one of ${type.callees.join(', ')}`, loc, didYouMean(name, type.callees));
  return undefined;
}

function mismatch(value: Value, type: ValueType, what: string, reporter: Reporter): undefined {
  if (value.kind === 'word') {
    const words = wordsOf(type);
    if (words.length > 0) {
      reporter.error(
        'unknown-value',
        `${what} expects ${describeType(type)}, but got '${value.name}'`,
        value.loc,
        didYouMean(value.name, [...words, ...value.scopeNames()]),
      );
      return undefined;
    }
    reportUnknownName(value.name, value.scopeNames(), value.loc, reporter);
    return undefined;
  }
  reporter.error('type-mismatch', `${what} expects ${describeType(type)}, but got ${describeValue(value)}`, value.loc);
  return undefined;
}

/** The bare words a type accepts (enum members and callee names), for suggestions. */
function wordsOf(type: ValueType): string[] {
  switch (type.kind) {
    case 'enum':
      return [...type.words];
    case 'call':
      return [...type.callees];
    case 'union':
      return type.options.flatMap(wordsOf);
    default:
      return [];
  }
}
