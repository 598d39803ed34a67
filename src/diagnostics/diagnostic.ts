import type { SourceRange } from '../syntax/location.js';

export type Severity = 'error' | 'warning';

/**
 * One problem found in a plan. Every stage (lexer, parser, checks) reports these;
 * none throws on a bad plan. `code` is a stable kebab-case identifier for tests and
 * tooling (`unknown-name`, `shape-mismatch`, ...).
 */
export interface Diagnostic {
  severity: Severity;
  code: string;
  message: string;
  file: string;
  range: SourceRange;
  /** Shown under the excerpt, e.g. `did you mean 'stage1'?`. */
  hint?: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Stable order: by file, then position, then message. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.range.start.offset - b.range.start.offset ||
      a.message.localeCompare(b.message),
  );
}
