import { didYouMean } from '../diagnostics/suggest.js';
import type { Expression, Argument } from '../syntax/ast.js';
import type { SourceRange } from '../syntax/location.js';
import type { Environment } from './environment.js';
import type { Reporter } from './reporter.js';
import type { EvaluatedArgument, NumberValue, Value } from './values.js';
import { describeValue } from './values.js';

const OPERATOR_NAMES = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide' } as const;

/** Evaluates an expression; reports and returns an ErrorValue on any problem. Never throws. */
export function evaluate(expression: Expression, env: Environment, reporter: Reporter): Value {
  switch (expression.kind) {
    case 'Number':
      return { kind: 'number', value: expression.value, percent: false, loc: expression.loc };
    case 'Percent':
      return { kind: 'number', value: expression.value, percent: true, loc: expression.loc };
    case 'String':
      return { kind: 'string', value: expression.value, loc: expression.loc };
    case 'Boolean':
      return { kind: 'boolean', value: expression.value, loc: expression.loc };
    case 'Ref': {
      const found = env.lookup(expression.name);
      if (found === undefined) return { kind: 'word', name: expression.name, scopeNames: () => env.names(), loc: expression.loc };
      return found.relocate ? { ...found.value, loc: expression.loc } : found.value;
    }
    case 'List':
      return { kind: 'list', items: expression.items.map((item) => evaluate(item, env, reporter)), loc: expression.loc };
    case 'Call':
      return {
        kind: 'call',
        callee: expression.callee.name,
        calleeLoc: expression.callee.loc,
        args: evaluateArguments(expression.args, env, reporter),
        loc: expression.loc,
      };
    case 'Unary': {
      const operand = evaluate(expression.operand, env, reporter);
      const number = arithmeticOperand(operand, 'negate', reporter);
      if (number === undefined) return { kind: 'error', loc: expression.loc };
      return { kind: 'number', value: -number, percent: false, loc: expression.loc };
    }
    case 'Binary': {
      const left = evaluate(expression.left, env, reporter);
      const right = evaluate(expression.right, env, reporter);
      const verb = OPERATOR_NAMES[expression.op];
      const a = arithmeticOperand(left, verb, reporter);
      const b = arithmeticOperand(right, verb, reporter);
      if (a === undefined || b === undefined) return { kind: 'error', loc: expression.loc };
      if (expression.op === '/' && b === 0) {
        reporter.error('division-by-zero', 'division by zero', expression.right.loc);
        return { kind: 'error', loc: expression.loc };
      }
      const value = applyOperator(expression.op, a, b);
      if (!Number.isFinite(value)) {
        reporter.error('number-overflow', `the result of this expression is too large (${value})`, expression.loc);
        return { kind: 'error', loc: expression.loc };
      }
      return { kind: 'number', value, percent: false, loc: expression.loc };
    }
  }
}

export function evaluateArguments(args: readonly Argument[], env: Environment, reporter: Reporter): EvaluatedArgument[] {
  return args.map((arg) => {
    const evaluated: EvaluatedArgument = { value: evaluate(arg.value, env, reporter), loc: arg.loc };
    if (arg.name) {
      evaluated.name = arg.name.name;
      evaluated.nameLoc = arg.name.loc;
    }
    return evaluated;
  });
}

function applyOperator(op: '+' | '-' | '*' | '/', a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
  }
}

/** The number in an arithmetic operand, or undefined after reporting why it is not one. */
function arithmeticOperand(value: Value, verb: string, reporter: Reporter): number | undefined {
  if (value.kind === 'number' && !value.percent) return value.value;
  if (value.kind === 'error') return undefined;
  if (value.kind === 'word') {
    reportUnknownName(value.name, value.scopeNames(), value.loc, reporter);
    return undefined;
  }
  const what = value.kind === 'number' ? `a percentage (${describeValue(value as NumberValue)})` : describeValue(value);
  reporter.error('type-mismatch', `cannot ${verb} ${what}: arithmetic needs plain numbers`, value.loc);
  return undefined;
}

export function reportUnknownName(name: string, candidates: readonly string[], loc: SourceRange, reporter: Reporter): void {
  const hint = didYouMean(name, candidates);
  reporter.error('unknown-name', `unknown name '${name}'`, loc, hint);
}
