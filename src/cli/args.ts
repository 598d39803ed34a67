/**
 * Argument parsing shared by the commands: node:util parseArgs in strict mode,
 * with its errors turned into UsageError (exit 2) in words a user can act on.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs<O extends OptionsConfig> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
}

export function parseCommandArgs<O extends OptionsConfig>(args: string[], options: O): ParsedArgs<O> {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }
}

/** parseArgs messages carry a long tail ("To specify a positional argument..."): keep the first sentence. */
function usageMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  // `'-o, --output <value>'` -> `--output`
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  const option = quoted.match(/-{1,2}[\w-]+/g)?.pop();
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option '${option}'`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return error.message.includes('argument missing')
      ? `option '${option}' needs a value`
      : `option '${option}' takes no value`;
  }
  return error.message.split('\n')[0]!.replace(/\. To specify.*$/, '');
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--set width=1 --set lr0=0.05` -> { width: '1', lr0: '0.05' }; values stay mono expression text. */
export function parseSetOverrides(assignments: readonly string[] | undefined): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const assignment of assignments ?? []) {
    const equals = assignment.indexOf('=');
    const name = equals < 0 ? assignment : assignment.slice(0, equals).trim();
    const value = equals < 0 ? '' : assignment.slice(equals + 1).trim();
    if (equals < 0 || !PARAM_NAME.test(name) || value === '')
      throw new UsageError(`--set expects NAME=VALUE (for example --set width=1), got '${assignment}'`);
    overrides[name] = value;
  }
  return overrides;
}

/** Exactly `count` positionals, else a UsageError naming what is missing or extra. */
export function expectPositionals(positionals: string[], what: string, { min = 1, max = 1 } = {}): string[] {
  if (positionals.length < min) throw new UsageError(`missing ${what}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  return positionals;
}

/**
 * A numeric option's value, or undefined when the option was not given. Rejects
 * empty text, NaN, infinities, fractions when `integer`, and values below `min`
 * (`min: Number.MIN_VALUE` reads as "> 0" in the message).
 */
export function optionalNumber(text: string | undefined, option: string, { integer = false, min }: { integer?: boolean; min: number }): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    const wanted = min === Number.MIN_VALUE ? 'a number > 0' : `${integer ? 'a whole number' : 'a number'} >= ${min}`;
    throw new UsageError(`${option} expects ${wanted}, got '${text}'`);
  }
  return value;
}

/** A whole-number option (>= `min`), or undefined when not given. */
export function optionalInteger(text: string | undefined, option: string, min = 0): number | undefined {
  return optionalNumber(text, option, { integer: true, min });
}

/** An option whose value is one of `allowed`, or undefined when not given; anything else is a usage error naming them. */
export function optionalChoice<T extends string>(value: string | undefined, option: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option} expects one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}
