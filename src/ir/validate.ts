import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from './schema.json' with { type: 'json' };

let compiled: ValidateFunction | undefined;

/** The schema validator, compiled on first use and then kept: compiling is the slow part. */
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
  return compiled;
}

function formatError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  const detail = error.params && 'additionalProperty' in error.params ? ` '${String(error.params.additionalProperty)}'` : '';
  return `${where} ${error.message ?? 'is invalid'}${detail}`;
}

/** Checks an IR against src/ir/schema.json; `errors` are readable `path message` lines. */
export function validateIr(ir: unknown): { valid: boolean; errors: string[] } {
  const validate = validator();
  const valid = validate(ir);
  return { valid, errors: valid ? [] : (validate.errors ?? []).map(formatError) };
}
