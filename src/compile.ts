import { readFileSync } from 'node:fs';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import { hasErrors, sortDiagnostics } from './diagnostics/diagnostic.js';
import { didYouMean } from './diagnostics/suggest.js';
import { lowerToIr } from './semantics/lower.js';
import type { IR } from './ir/types.js';
import { validateIr } from './ir/validate.js';
import { analyzePlan } from './semantics/analyze.js';
import type { ParamOverride } from './semantics/params.js';
import type { CheckRegistry } from './semantics/registry.js';
import { Reporter } from './semantics/reporter.js';
import type { ExpansionTrace } from './semantics/trace.js';
import type { Plan } from './syntax/ast.js';
import type { SourceRange } from './syntax/location.js';
import { NO_RANGE } from './syntax/location.js';
import { parseExpression, parsePlan } from './syntax/parse.js';

export interface CompileOptions {
  /** Plan-param overrides from `--set NAME=VALUE`; VALUE is mono expression text. */
  set?: Record<string, string>;
  /** The per-node checks to run instead of the built-in ones (createCheckRegistry() plus a tool's own). */
  checks?: CheckRegistry;
  /** Filled with what each layer item expanded to (nodes, shapes), also when the plan has errors elsewhere. */
  trace?: ExpansionTrace;
  /** false: stop after the checks, with no IR (an editor wants diagnostics only, fast). Default true. */
  lower?: boolean;
}

export interface CompileResult {
  plan?: Plan;
  /** Present only when there are no errors. */
  ir?: IR;
  diagnostics: Diagnostic[];
}

/** The `file` of diagnostics about a --set override; their range lies in the text `NAME=VALUE`. */
export const SET_FILE = '--set';

/**
 * Parses, checks and lowers a plan. Never throws, whatever the input: an
 * unexpected failure becomes an `internal-error` diagnostic. Deterministic.
 * Syntax errors stop the compilation before the checks (a partly parsed plan
 * would only add confusing follow-on errors).
 */
export function compilePlan(text: string, file: string, options: CompileOptions = {}): CompileResult {
  let plan: Plan | undefined;
  try {
    const parsed = parsePlan(text, file);
    plan = parsed.plan;
    if (plan === undefined || hasErrors(parsed.diagnostics)) return result(plan, undefined, parsed.diagnostics);
    const reporter = new Reporter(file);
    const setReporter = new Reporter(SET_FILE);
    const overrides = parseOverrides(options.set ?? {}, plan, setReporter);
    const analysis = analyzePlan(plan, overrides, reporter, options.checks, options.trace);
    const diagnostics = [...parsed.diagnostics, ...setReporter.diagnostics, ...reporter.diagnostics];
    if (analysis === undefined || hasErrors(diagnostics) || options.lower === false) return result(plan, undefined, diagnostics);
    const ir = lowerToIr(analysis, file, text);
    const validation = validateIr(ir);
    if (!validation.valid) {
      diagnostics.push(internalError('internal-ir-invalid', `the compiler produced an IR that fails its schema: ${validation.errors.slice(0, 5).join('; ')}`, file));
      return result(plan, undefined, diagnostics);
    }
    return result(plan, ir, diagnostics);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return result(plan, undefined, [internalError('internal-error', `internal compiler error: ${message}`, file)]);
  }
}

/** compilePlan on a file's contents; the path is what diagnostics carry. Throws only when the file cannot be read. */
export function compileFile(path: string, options: CompileOptions = {}): CompileResult & { source: string } {
  const source = readFileSync(path, 'utf8');
  return { ...compilePlan(source, path, options), source };
}

function result(plan: Plan | undefined, ir: IR | undefined, diagnostics: Diagnostic[]): CompileResult {
  const compiled: CompileResult = { diagnostics: sortDiagnostics(diagnostics) };
  if (plan !== undefined) compiled.plan = plan;
  if (ir !== undefined) compiled.ir = ir;
  return compiled;
}

function internalError(code: string, message: string, file: string): Diagnostic {
  return { severity: 'error', code, message, file, range: NO_RANGE };
}

/**
 * Parses each `NAME=VALUE` override's VALUE with the parser's expression rule, its
 * locations starting after `NAME=` on line 1 of the `NAME=VALUE` text, so that
 * diagnostics about it point into what the user typed.
 */
function parseOverrides(set: Record<string, string>, plan: Plan, reporter: Reporter): Map<string, ParamOverride> {
  const overrides = new Map<string, ParamOverride>();
  const declared = plan.declarations.flatMap((declaration) => (declaration.kind === 'Param' ? [declaration.name.name] : []));
  for (const name of Object.keys(set).sort()) {
    const value = set[name]!;
    const text = `${name}=${value}`;
    if (!declared.includes(name)) {
      reporter.error('unknown-param', `--set ${name}: the plan has no param '${name}'`, lineRange(0, name.length), didYouMean(name, declared));
      continue;
    }
    const valueStart = name.length + 1;
    const parsed = parseExpression(value, SET_FILE, { offset: valueStart, line: 1, column: valueStart + 1 });
    const problem = parsed.diagnostics.find((diagnostic) => diagnostic.severity === 'error');
    if (parsed.expression === undefined || problem !== undefined) {
      const reason = problem === undefined ? '' : `: ${problem.message}`;
      reporter.error(
        'invalid-set',
        `--set ${text}: '${value}' is not a mono expression${reason}`,
        problem?.range ?? lineRange(valueStart, text.length),
        'VALUE is a mono expression: a number, a percentage, a "string", true or false, a list, or arithmetic on those and on earlier params',
      );
      continue;
    }
    overrides.set(name, { expression: parsed.expression, reporter });
  }
  return overrides;
}

function lineRange(startColumn: number, endColumn: number): SourceRange {
  return {
    start: { offset: startColumn, line: 1, column: startColumn + 1 },
    end: { offset: endColumn, line: 1, column: endColumn + 1 },
  };
}
