import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { SourceRange } from '../syntax/location.js';

/**
 * Collects the diagnostics of one compilation. A block instantiated many times
 * would report the same problem at the same place once per instance, so
 * identical diagnostics (same code, range and message) are kept once.
 */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();
  private errorCount = 0;

  constructor(readonly file: string) {}

  error(code: string, message: string, range: SourceRange, hint?: string): void {
    this.add('error', code, message, range, hint);
  }

  warning(code: string, message: string, range: SourceRange, hint?: string): void {
    this.add('warning', code, message, range, hint);
  }

  get errors(): number {
    return this.errorCount;
  }

  private add(severity: Severity, code: string, message: string, range: SourceRange, hint: string | undefined): void {
    const key = `${code}|${range.start.offset}|${range.end.offset}|${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (severity === 'error') this.errorCount++;
    const diagnostic: Diagnostic = { severity, code, message, file: this.file, range };
    if (hint !== undefined) diagnostic.hint = hint;
    this.diagnostics.push(diagnostic);
  }
}
