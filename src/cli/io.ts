/** Terminal and file helpers shared by the commands. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { renderDiagnostics } from '../diagnostics/render.js';
import { sortDiagnostics } from '../diagnostics/diagnostic.js';
import type { CommandIO } from './command.js';
import { UsageError } from './command.js';
import { SET_FILE } from '../compile.js';

/** Colour on a terminal unless NO_COLOR is set (https://no-color.org); FORCE_COLOR forces it. */
export function useColor(stream: CommandIO['stderr'], env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/**
 * Reads a file named on the command line, relative to the working directory.
 * A file that cannot be read is a usage error (exit 2): the argument is wrong, not the plan.
 */
export async function readInputFile(path: string, io: CommandIO): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(error));
    throw new UsageError(`cannot read '${path}': ${reason}`);
  }
}

/**
 * A path as messages show it: relative to the working directory when it lies inside
 * it (`.` for the directory itself), absolute otherwise (`../../tmp/x` is harder to
 * read and to copy than `/tmp/x`).
 */
export function shownPath(cwd: string, file: string): string {
  const absolute = resolve(cwd, file);
  const rel = relative(resolve(cwd), absolute);
  if (rel === '') return '.';
  // `..foo` is a name inside cwd; only `..` as a whole first segment leaves it.
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return absolute;
  return rel;
}

/** Writes every diagnostic to stderr (sorted, with caret excerpts), followed by an error count when there are errors. */
export function reportDiagnostics(diagnostics: readonly Diagnostic[], sources: Record<string, string>, io: CommandIO): void {
  if (diagnostics.length === 0) return;
  const color = useColor(io.stderr, io.env);
  io.stderr.write(renderDiagnostics(sortDiagnostics(diagnostics), sources, { color }) + '\n');
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const counts = [errors && plural(errors, 'error'), warnings && plural(warnings, 'warning')].filter(Boolean);
  io.stderr.write(`\n${counts.join(', ')}\n`);
}

/**
 * Sources for rendering: the plan files, plus the `NAME=VALUE` text of a lone `--set`
 * (the compiler reports override problems against the file SET_FILE, line 1 of that text;
 * with several overrides the excerpt would be ambiguous, so none is shown).
 */
export function sourcesWithOverrides(files: Record<string, string>, set: Record<string, string>): Record<string, string> {
  const entries = Object.entries(set);
  if (entries.length !== 1) return files;
  const [name, value] = entries[0]!;
  return { ...files, [SET_FILE]: `${name}=${value}` };
}

export const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
