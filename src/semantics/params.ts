import type { Expression } from '../syntax/ast.js';
import { Environment } from './environment.js';
import { evaluate } from './evaluate.js';
import type { Reporter } from './reporter.js';
import type { SymbolTable } from './symbols.js';
import { coerce, T } from './types.js';
import { toScalar } from './values.js';

const PARAM_VALUE = T.union(T.number, T.string, T.boolean);

export interface EvaluatedParams {
  /** Plan params for evaluating everything else (references read at their use site). */
  env: Environment;
  values: Record<string, number | string | boolean>;
}

/**
 * Evaluates plan params in source order: each may use the ones before it.
 * `overrides` (from --set) replace a param's expression before evaluation, so the
 * params after it see the new value.
 */
export interface ParamOverride {
  expression: Expression;
  /** Where the override's own problems go (its text came from the command line, not the plan). */
  reporter: Reporter;
}

export function evaluatePlanParams(symbols: SymbolTable, overrides: ReadonlyMap<string, ParamOverride>, reporter: Reporter): EvaluatedParams {
  const env = new Environment(undefined, true);
  const values: Record<string, number | string | boolean> = {};
  for (const declaration of symbols.params) {
    const name = declaration.name.name;
    const override = overrides.get(name);
    const expression = override?.expression ?? declaration.value;
    const sink = override?.reporter ?? reporter;
    const value = coerce(evaluate(expression, env, sink), PARAM_VALUE, `param '${name}'`, sink);
    if (value === undefined) {
      env.define(name, { kind: 'error', loc: expression.loc });
      continue;
    }
    env.define(name, value);
    const scalar = toScalar(value);
    if (scalar !== undefined) values[name] = scalar;
  }
  return { env, values };
}
