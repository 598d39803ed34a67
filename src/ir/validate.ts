import { Ajv } from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import schema from './schema.json' with { type: 'json' };

// The schema's only string-length rules are `minLength: 1` (a test keeps it so),
// where `.length` and ajv's code-point count agree; counting code points is a
// measurable cost on IRs of 100,000 strings, so `unicode: false`. Ajv warns that
// the option is deprecated (still honoured in v8): that one warning is dropped.
const UNICODE_DEPRECATION = 'DEPRECATED: option unicode';
const logger = {
  log: console.log,
  warn: (...args: unknown[]) => {
    if (!String(args[0]).startsWith(UNICODE_DEPRECATION)) console.warn(...args);
  },
  error: console.error,
};
const OPTIONS: Options = { strict: true, allowUnionTypes: true, unicode: false, logger };

let fast: ValidateFunction | undefined;
let thorough: ValidateFunction | undefined;

/**
 * Two validators of the same schema, each compiled once on first use: `fast`
 * stops at the first error (the common, valid case pays nothing for error
 * collection); `thorough` only runs on an invalid IR, to list every error.
 */
function fastValidator(): ValidateFunction {
  fast ??= new Ajv({ ...OPTIONS, allErrors: false }).compile(schema);
  return fast;
}

function thoroughValidator(): ValidateFunction {
  thorough ??= new Ajv({ ...OPTIONS, allErrors: true }).compile(schema);
  return thorough;
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const detail = error.params && 'additionalProperty' in error.params ? ` '${String(error.params.additionalProperty)}'` : '';
  return `${where} ${error.message ?? 'is invalid'}${detail}`;
}

/** Checks an IR against src/ir/schema.json; `errors` are readable `path message` lines. */
export function validateIr(ir: unknown): { valid: boolean; errors: string[] } {
  if (fastValidator()(ir)) return { valid: true, errors: [] };
  const validate = thoroughValidator();
  validate(ir);
  return { valid: false, errors: (validate.errors ?? []).map(formatError) };
}
