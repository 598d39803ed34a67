import type { Setting } from '../syntax/ast.js';
import type { Environment } from './environment.js';
import { evaluate } from './evaluate.js';
import type { Reporter } from './reporter.js';
import type { ValueType } from './types.js';
import { coerce } from './types.js';
import type { Value } from './values.js';

/** The values of a setting, checked for count and type; undefined after reporting. */
export function settingValues(setting: Setting, types: readonly ValueType[], env: Environment, reporter: Reporter): Value[] | undefined {
  const name = setting.name.name;
  if (setting.values.length !== types.length) {
    const expected = types.length === 1 ? 'one value' : `${types.length} values`;
    reporter.error('setting-arity', `'${name}' takes ${expected}, but got ${setting.values.length}`, setting.name.loc);
    return undefined;
  }
  const values: Value[] = [];
  let ok = true;
  setting.values.forEach((expression, index) => {
    const value = coerce(evaluate(expression, env, reporter), types[index]!, `'${name}'`, reporter);
    if (value === undefined) ok = false;
    else values.push(value);
  });
  return ok ? values : undefined;
}

/** The first setting of each name (duplicates were reported by the name checks). */
export function firstSettings(settings: readonly Setting[]): Map<string, Setting> {
  const byName = new Map<string, Setting>();
  for (const setting of settings) if (!byName.has(setting.name.name)) byName.set(setting.name.name, setting);
  return byName;
}
