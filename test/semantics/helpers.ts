import { expect } from 'vitest';
import { compilePlan } from '../../src/compile.js';
import type { CompileOptions, CompileResult } from '../../src/compile.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';

export const FILE = 'plan.mono';

export function compile(text: string, options?: CompileOptions): CompileResult {
  return compilePlan(text, FILE, options);
}

/** 1-based line and column of the `occurrence`-th (1-based) appearance of `snippet` in `text`. */
export function positionOf(text: string, snippet: string, occurrence: number | 'last' = 1): { line: number; column: number } {
  let index = -1;
  if (occurrence === 'last') index = text.lastIndexOf(snippet);
  else
    for (let i = 0; i < occurrence; i++) {
      index = text.indexOf(snippet, index + 1);
      if (index < 0) break;
    }
  if (index < 0) throw new Error(`snippet ${JSON.stringify(snippet)} not found`);
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  const column = index - before.lastIndexOf('\n');
  return { line, column };
}

export interface Expected {
  code: string;
  /** A fragment of the message. */
  message?: string;
  /** The diagnostic starts where this snippet starts (its `occurrence`-th appearance). */
  at?: string;
  /** Which appearance of `at` (1-based, or 'last'); default 1. */
  occurrence?: number | 'last';
  hint?: string;
  severity?: 'error' | 'warning';
}

/** Asserts that compiling `text` reports exactly one diagnostic with `expected.code`, matching the rest. */
export function expectDiagnostic(text: string, expected: Expected, options?: CompileOptions): Diagnostic {
  const result = compile(text, options);
  const matching = result.diagnostics.filter((d) => d.code === expected.code);
  expect(matching, `diagnostics were: ${JSON.stringify(result.diagnostics.map((d) => `${d.code}: ${d.message}`))}`).toHaveLength(1);
  const diagnostic = matching[0]!;
  expect(diagnostic.severity).toBe(expected.severity ?? 'error');
  if (expected.message !== undefined) expect(diagnostic.message).toContain(expected.message);
  if (expected.at !== undefined) {
    const { line, column } = positionOf(text, expected.at, expected.occurrence);
    expect(`${diagnostic.range.start.line}:${diagnostic.range.start.column}`).toBe(`${line}:${column}`);
  }
  if (expected.hint !== undefined) expect(diagnostic.hint).toBe(expected.hint);
  if (diagnostic.severity === 'error') expect(result.ir).toBeUndefined();
  return diagnostic;
}

/** Compiles a plan that must have no errors; returns its IR. */
export function compileOk(text: string, options?: CompileOptions) {
  const result = compile(text, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  expect(errors.map((d) => `${d.code} ${d.range.start.line}:${d.range.start.column} ${d.message}`)).toEqual([]);
  expect(result.ir).toBeDefined();
  return result.ir!;
}

/**
 * A small valid plan; `parts` replace its pieces, so a test changes only what it checks.
 */
export function plan(parts: Partial<Record<'params' | 'data' | 'blocks' | 'network' | 'partitions' | 'schedule', string>> = {}): string {
  return [
    'plan tiny',
    parts.params ?? 'param width = 4',
    parts.data ?? 'data synthetic(examples: 200, classes: 10, shape: [8, 8, 3]) { batch 16 }',
    parts.blocks ??
      'block basic(f, stride = 1) {\n  residual { conv(f, 3, stride: stride) bn relu conv(f, 3) bn }\n  relu\n}\nhead gap(classes) { global_avg_pool dense(classes) }',
    parts.network ??
      'network input [8, 8, 3] {\n  stem: conv(width, 3) bn relu\n  stage1: basic(width) basic(2 * width, stride: 2)\n  out: global_avg_pool dense(10)\n}',
    parts.partitions ?? 'partition p1 = stem .. stage1 proxy gap(10)\npartition p2 = out',
    parts.schedule ??
      'schedule {\n  train p1 for 2 epochs with msgd(lr: 0.1, momentum: 0.9)\n  train p2 for 1 epoch with msgd(lr: 0.05)\n  finetune all for 1 epoch with adam(lr: 1e-3)\n}',
    '',
  ].join('\n');
}
