/**
 * From what a sweep asks for (./spec.ts) to the trials it runs: each arm's plan is
 * compiled (its errors are reported as they are), every param name is checked against
 * the plan's declared params, every value against the plan (compiled with that value
 * alone, the problem reported at the value), random values are drawn, and every
 * configuration is compiled once more (which also gives its epoch count).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compilePlan, SET_FILE } from '../compile.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hasErrors } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../diagnostics/suggest.js';
import { Rng } from '../runtime/rng.js';
import type { SourceRange } from '../syntax/location.js';
import type { ArmSpec, Distribution, Located, SweepSpec, SweepValue } from './spec.js';
import { sweepError } from './spec.js';

export interface ExpandedArm {
  name: string;
  /** Absolute path of the plan. */
  planFile: string;
  planSource: string;
  planSha256: string;
  /** The params the arm varies or fixes, in the order given. */
  params: string[];
}

export interface ExpandedConfig {
  /** `c1`, `c2`, ... within a single-arm sweep; `adam-c1` with arms. */
  id: string;
  arm: string;
  /** `--set NAME=TEXT` values of this configuration (fixed ones included). */
  set: Record<string, string>;
  /** Epochs of all the plan's phases under these values. */
  epochs: number;
}

export interface ExpandedTrial {
  /** `<config>-s<seed>` (`-s-` for the plan's own seed). */
  id: string;
  config: string;
  arm: string;
  seed: number | null;
}

export interface ExpandedSweep {
  arms: ExpandedArm[];
  configs: ExpandedConfig[];
  trials: ExpandedTrial[];
}

export interface ExpandResult {
  sweep: ExpandedSweep | null;
  diagnostics: Diagnostic[];
  /** Plan texts added for rendering the diagnostics (by their shown file name). */
  sources: Map<string, string>;
}

/** A drawn value as `--set` text: 4 significant digits, no trailing zeros. */
export function formatDraw(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** One value from a distribution. */
export function draw(distribution: Distribution, rng: Rng): string {
  switch (distribution.kind) {
    case 'choice':
      return distribution.values[rng.int(distribution.values.length)]!.text;
    case 'int': {
      const low = distribution.low.number!;
      return String(low + rng.int(distribution.high.number! - low + 1));
    }
    case 'uniform': {
      const low = distribution.low.number!;
      return formatDraw(low + rng.next() * (distribution.high.number! - low));
    }
    case 'log': {
      const low = Math.log(distribution.low.number!);
      return formatDraw(Math.exp(low + rng.next() * (Math.log(distribution.high.number!) - low)));
    }
  }
}

/** The first error of a compilation, as one line (with its place when it is in the plan). */
function firstError(diagnostics: readonly Diagnostic[]): string {
  const error = diagnostics.find((d) => d.severity === 'error')!;
  if (error.file === SET_FILE) return error.message.replace(/^--set [^:]*: /, '');
  return `${error.file}:${error.range.start.line}:${error.range.start.column}: ${error.message}`;
}

function rangeOf(value: Located<unknown> | SweepValue): { file: string; range: SourceRange } {
  return { file: value.file, range: value.range };
}

export interface ExpandOptions {
  cwd: string;
  /** How a plan path appears in messages (relative to the working directory when inside it). */
  shown: (absolute: string) => string;
}

export async function expandSweep(spec: SweepSpec, options: ExpandOptions): Promise<ExpandResult> {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const arms: ExpandedArm[] = [];
  const configs: ExpandedConfig[] = [];
  const multiArm = spec.arms.length > 1;

  for (const [armIndex, arm] of spec.arms.entries()) {
    const planLoc = arm.plan!;
    const planFile = path.resolve(spec.baseDir, planLoc.value);
    const shown = options.shown(planFile);
    let source: string;
    try {
      source = await readFile(planFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      diagnostics.push(sweepError(planLoc.file, planLoc.range, 'unreadable-plan', `cannot read the plan ${shown}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`));
      continue;
    }
    sources.set(shown, source);
    const compiled = compilePlan(source, shown);
    if (hasErrors(compiled.diagnostics) || !compiled.plan) {
      diagnostics.push(...compiled.diagnostics);
      continue;
    }
    const declared = compiled.plan.declarations.flatMap((d) => (d.kind === 'Param' ? [d.name.name] : []));
    const before = diagnostics.length;
    const names = [...arm.fixed.map((e) => e.name), ...arm.grid.map((e) => e.name), ...arm.random.map((e) => e.name)];
    for (const name of names) {
      if (!declared.includes(name.value)) {
        const which = declared.length > 0 ? `its params: ${declared.join(', ')}` : 'it declares no param';
        diagnostics.push(sweepError(name.file, name.range, 'unknown-param', `${shown} has no param '${name.value}' (${which})`, didYouMean(name.value, declared)));
      }
    }
    if (arm.random.length > 0 && arm.trials === null) {
      const first = arm.random[0]!;
      diagnostics.push(sweepError(first.file, first.range, 'missing-trials', `random ${first.name.value} needs a number of trials`, 'add: trials N (on the command line: --trials N)'));
    }
    if (arm.random.length === 0 && arm.trials !== null) {
      diagnostics.push(sweepError(arm.trials.file, arm.trials.range, 'trials-without-random', `trials ${arm.trials.value}: there is no random param to draw`, 'add a random NAME = ... entry, or use a grid'));
    }

    // Every value on its own: a problem is reported at the value that causes it.
    const checkValue = (name: string, text: string, where: { file: string; range: SourceRange }, what: string): boolean => {
      if (!declared.includes(name)) return false;
      const result = compilePlan(source, shown, { set: { [name]: text } });
      if (!hasErrors(result.diagnostics)) return true;
      diagnostics.push(sweepError(where.file, where.range, 'invalid-value', `${what}: ${firstError(result.diagnostics)}`));
      return false;
    };
    for (const entry of arm.fixed) checkValue(entry.name.value, entry.value.text, rangeOf(entry.value), `${entry.name.value} = ${entry.value.text}`);
    for (const entry of arm.grid) for (const value of entry.values) checkValue(entry.name.value, value.text, rangeOf(value), `${entry.name.value} = ${value.text}`);
    for (const entry of arm.random) {
      if (entry.distribution.kind === 'choice') for (const value of entry.distribution.values) checkValue(entry.name.value, value.text, rangeOf(value), `${entry.name.value} = ${value.text}`);
      else for (const bound of [entry.distribution.low, entry.distribution.high]) checkValue(entry.name.value, bound.text, rangeOf(bound), `${entry.name.value} = ${bound.text} (a bound of ${entry.distribution.kind}(...))`);
    }
    if (diagnostics.length > before) continue;

    const settings = armSettings(arm, new Rng(spec.sampleSeed).fork(armIndex + 1));
    settings.forEach((set, index) => {
      const id = `${multiArm ? `${arm.name.value}-` : ''}c${String(index + 1).padStart(String(settings.length).length, '0')}`;
      const result = compilePlan(source, shown, { set });
      if (hasErrors(result.diagnostics) || !result.ir) {
        const values = Object.entries(set).map(([k, v]) => `${k}=${v}`).join(', ');
        diagnostics.push(sweepError(arm.name.file, arm.name.range, 'invalid-configuration', `configuration ${id} (${values}) does not compile: ${firstError(result.diagnostics)}`));
        return;
      }
      configs.push({ id, arm: arm.name.value, set, epochs: result.ir.phases.reduce((sum, phase) => sum + phase.epochs, 0) });
    });
    arms.push({
      name: arm.name.value,
      planFile,
      planSource: source,
      planSha256: createHash('sha256').update(source).digest('hex'),
      params: names.map((n) => n.value),
    });
  }
  if (hasErrors(diagnostics)) return { sweep: null, diagnostics, sources };

  const seeds = spec.seeds?.map((s) => s.value) ?? [null];
  const trials: ExpandedTrial[] = [];
  // Seed-major: every configuration gets its first seed before any gets a second.
  for (const seed of seeds) {
    for (const config of configs) trials.push({ id: `${config.id}-s${seed ?? '-'}`, config: config.id, arm: config.arm, seed });
  }
  return { sweep: { arms, configs, trials }, diagnostics, sources };
}

/** The `--set` values of each configuration: the grid's product (last grid fastest), times the random draws. */
function armSettings(arm: ArmSpec, rng: Rng): Record<string, string>[] {
  const fixed: Record<string, string> = Object.fromEntries(arm.fixed.map((e) => [e.name.value, e.value.text]));
  let points: Record<string, string>[] = [fixed];
  for (const entry of arm.grid) points = points.flatMap((point) => entry.values.map((value) => ({ ...point, [entry.name.value]: value.text })));
  if (arm.random.length === 0) return points;
  const trials = arm.trials?.value ?? 1;
  return points.flatMap((point) =>
    Array.from({ length: trials }, () => {
      const drawn = { ...point };
      for (const entry of arm.random) drawn[entry.name.value] = draw(entry.distribution, rng);
      return drawn;
    }),
  );
}
