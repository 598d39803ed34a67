import { describe, expect, it } from 'vitest';
import { expectPositionals, optionalInteger, optionalNumber } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/command.js';

describe('numeric options', () => {
  it('passes absent options through and parses valid ones', () => {
    expect(optionalInteger(undefined, '--seed')).toBeUndefined();
    expect(optionalInteger('7', '--seed')).toBe(7);
    expect(optionalNumber('1e-5', '--from', { min: Number.MIN_VALUE })).toBe(1e-5);
  });

  it('rejects fractions, values below min, empty text and non-numbers with the option named', () => {
    expect(() => optionalInteger('1.5', '--seed')).toThrow(new UsageError("--seed expects a whole number >= 0, got '1.5'"));
    expect(() => optionalInteger('0', '--max-epochs', 1)).toThrow(/--max-epochs expects a whole number >= 1, got '0'/);
    expect(() => optionalInteger('', '--seed')).toThrow(UsageError);
    expect(() => optionalNumber('Infinity', '--to', { min: Number.MIN_VALUE })).toThrow(/--to expects a number > 0/);
    expect(() => optionalNumber('0', '--from', { min: Number.MIN_VALUE })).toThrow(/--from expects a number > 0, got '0'/);
    expect(() => optionalNumber('-1', '--x', { min: 0 })).toThrow(/--x expects a number >= 0/);
  });
});

describe('expectPositionals', () => {
  it('names what is missing or extra', () => {
    expect(() => expectPositionals([], 'PLAN')).toThrow(/missing PLAN/);
    expect(() => expectPositionals(['a', 'b'], 'PLAN')).toThrow(/unexpected argument 'b'/);
    expect(expectPositionals([], 'PLAN', { min: 0 })).toEqual([]);
  });
});
