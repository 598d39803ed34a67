import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { renderDiagnostic } from '../../src/diagnostics/render.js';
import { sortDiagnostics } from '../../src/diagnostics/diagnostic.js';

const source = 'plan p\nnetwork input [4] {\n  a: dnese(3)\n}\n';
const at = (line: number, column: number, length: number, offset: number): Diagnostic['range'] => ({
  start: { line, column, offset },
  end: { line, column: column + length, offset: offset + length },
});

describe('renderDiagnostic', () => {
  const diagnostic: Diagnostic = {
    severity: 'error',
    code: 'unknown-layer',
    message: "unknown layer 'dnese'",
    file: 'plans/x.mono',
    range: at(3, 6, 5, 32),
    hint: "did you mean 'dense'?",
  };

  it('prints file:line:col, the source line and a caret under the range', () => {
    expect(renderDiagnostic(diagnostic, source)).toBe(
      [
        "plans/x.mono:3:6: error: unknown layer 'dnese'",
        '  |',
        '3 |   a: dnese(3)',
        '  |      ^^^^^',
        "  hint: did you mean 'dense'?",
      ].join('\n'),
    );
  });

  it('still prints the location line without the source', () => {
    expect(renderDiagnostic(diagnostic, undefined).split('\n')[0]).toBe("plans/x.mono:3:6: error: unknown layer 'dnese'");
  });

  it('colours only when asked', () => {
    expect(renderDiagnostic(diagnostic, source)).not.toContain('\u001b[');
    expect(renderDiagnostic(diagnostic, source, { color: true })).toContain('\u001b[');
  });
});

describe('sortDiagnostics', () => {
  it('orders by file then offset', () => {
    const make = (file: string, offset: number): Diagnostic => ({
      severity: 'error',
      code: 'x',
      message: 'm',
      file,
      range: at(1, offset + 1, 1, offset),
    });
    const sorted = sortDiagnostics([make('b', 0), make('a', 5), make('a', 1)]);
    expect(sorted.map((d) => `${d.file}${d.range.start.offset}`)).toEqual(['a1', 'a5', 'b0']);
  });
});
