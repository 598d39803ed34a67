import type { Diagnostic } from './diagnostic.js';

export interface RenderOptions {
  /** ANSI colours; on for a terminal. */
  color?: boolean;
}

const paint = (on: boolean, code: string, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/**
 * `file:line:col: error: message`, then the source line with a caret excerpt
 * under the range (graphql-js style), then the hint if any.
 */
export function renderDiagnostic(diagnostic: Diagnostic, source: string | undefined, options: RenderOptions = {}): string {
  const color = options.color ?? false;
  const { start, end } = diagnostic.range;
  const severity = diagnostic.severity === 'error' ? paint(color, '1;31', 'error') : paint(color, '1;33', 'warning');
  const lines = [`${paint(color, '1', `${diagnostic.file}:${start.line}:${start.column}`)}: ${severity}: ${diagnostic.message}`];
  if (source !== undefined) {
    const sourceLines = source.split(/\r\n|\r|\n/);
    const text = sourceLines[start.line - 1];
    if (text !== undefined) {
      const gutter = String(start.line).length;
      const width =
        end.line === start.line ? Math.max(1, end.column - start.column) : Math.max(1, text.length - start.column + 1);
      const pad = text.slice(0, start.column - 1).replace(/[^\t]/g, ' ');
      lines.push(`${' '.repeat(gutter)} |`);
      lines.push(`${start.line} | ${text}`);
      lines.push(`${' '.repeat(gutter)} | ${pad}${paint(color, '1;31', '^'.repeat(width))}`);
    }
  }
  if (diagnostic.hint) lines.push(`  ${paint(color, '36', 'hint')}: ${diagnostic.hint}`);
  return lines.join('\n');
}

export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string> | Record<string, string>,
  options: RenderOptions = {},
): string {
  const lookup = (file: string) => (sources instanceof Map ? sources.get(file) : (sources as Record<string, string>)[file]);
  return diagnostics.map((d) => renderDiagnostic(d, lookup(d.file), options)).join('\n\n');
}
