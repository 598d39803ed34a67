/**
 * What a sweep asks for, as written (a `.sweep` file or the command line), with the
 * place of every piece so that problems can be reported at file:line:col. The
 * expansion into configurations and trials is in ./expand.ts.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceRange } from '../syntax/location.js';

/** A piece of text and where it was written: a file, or an option of the command line (`--grid`). */
export interface Located<T> {
  value: T;
  file: string;
  range: SourceRange;
}

/** A param value as written: passed to `mono run --set NAME=TEXT` unchanged. */
export interface SweepValue {
  text: string;
  kind: 'number' | 'string' | 'boolean';
  /** The number, for kind 'number'. */
  number: number | null;
  file: string;
  range: SourceRange;
}

export type Distribution =
  | { kind: 'uniform' | 'log' | 'int'; low: SweepValue; high: SweepValue }
  | { kind: 'choice'; values: SweepValue[] };

export const DISTRIBUTIONS = ['uniform', 'log', 'int', 'choice'] as const;

/** `set NAME = VALUE`: the same value in every trial. */
export interface FixedEntry {
  name: Located<string>;
  value: SweepValue;
}

/** `grid NAME = V1, V2, ...`: one configuration per value (a product over several grids). */
export interface GridEntry {
  name: Located<string>;
  values: SweepValue[];
}

/** `random NAME = log(1e-3, 1e-1)`: a value drawn for each of `trials` configurations. */
export interface RandomEntry {
  name: Located<string>;
  distribution: Distribution;
  /** The distribution as written, for messages about drawn values. */
  file: string;
  range: SourceRange;
}

/** One plan and what to vary in it. A sweep without `arm` blocks has one arm, named after its plan. */
export interface ArmSpec {
  name: Located<string>;
  /** The plan's path as written; relative to the sweep file's folder (or the working directory). */
  plan: Located<string> | null;
  fixed: FixedEntry[];
  grid: GridEntry[];
  random: RandomEntry[];
  trials: Located<number> | null;
}

export interface SweepSpec {
  /** Where relative plan paths start: the sweep file's folder, or the working directory. */
  baseDir: string;
  arms: ArmSpec[];
  /** `mono run --seed` per trial; null: one trial per configuration with the plan's own seed. */
  seeds: Located<number>[] | null;
  /** Seed of the random draws (not of training). */
  sampleSeed: number;
  backend: Located<string> | null;
}

export interface ParsedSpec {
  spec: SweepSpec | null;
  diagnostics: Diagnostic[];
  /** Texts for rendering the diagnostics' excerpts, by file. */
  sources: Map<string, string>;
}

export function sweepError(file: string, range: SourceRange, code: string, message: string, hint?: string): Diagnostic {
  return { severity: 'error', code, message, file, range, ...(hint !== undefined ? { hint } : {}) };
}
