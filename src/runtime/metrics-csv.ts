/**
 * metrics.csv: metrics.jsonl as a table for spreadsheets. One row per line of
 * metrics.jsonl; nested objects become dotted columns (`lr_groups.p1`,
 * `lr_bounds.min`); the columns are the union of every line's keys. Their order is
 * stable: EpochMetrics' own fields in their documented order, each nested object's
 * keys in the order they first appear, then any key mono does not know yet in the
 * order it first appears. A null or missing value is an empty cell.
 *
 * It is derived, never appended: after every epoch (and when a run starts or
 * resumes, after metrics.jsonl is cut back) the whole file is rewritten from
 * metrics.jsonl through a temporary file and a rename, so it always holds whole rows
 * of the epochs metrics.jsonl holds, whatever a crash interrupts.
 */
import path from 'node:path';
import { writeFileAtomically } from './run-folder.js';
import type { EpochMetrics } from './trainer.js';

export const METRICS_CSV_FILE = 'metrics.csv';

/** The fields of EpochMetrics in the order the CSV lists them (those a line lacks are left out). */
const KNOWN_ORDER = [
  'phase',
  'epoch',
  'epochs',
  'head',
  'loss',
  'acc',
  'val_loss',
  'val_acc',
  'test_loss',
  'test_acc',
  'mi',
  'lr',
  'momentum',
  'lr_groups',
  'mi_groups',
  'lr_bounds',
  'lr_bounds_source',
  'lr_find_rejected',
  'seconds',
  'examples_per_s',
];

type Cell = string | number | boolean | null;

/** Fields that hold an object (or null: mi_groups without hold-out data); their null adds no column of its own. */
const NESTED = new Set(['lr_groups', 'mi_groups', 'lr_bounds']);

/** A line's values by column name, nested objects flattened to `key.child`. */
function flatten(value: Record<string, unknown>, prefix = '', into = new Map<string, Cell>()): Map<string, Cell> {
  for (const [key, v] of Object.entries(value)) {
    const name = prefix + key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${name}.`, into);
    else if (v === null && prefix === '' && NESTED.has(key)) continue;
    else into.set(name, v === undefined ? null : Array.isArray(v) ? JSON.stringify(v) : (v as Cell));
  }
  return into;
}

const rank = (column: string) => {
  const index = KNOWN_ORDER.indexOf(column.split('.')[0]!);
  return index < 0 ? KNOWN_ORDER.length : index;
};

/** The columns of a set of lines: see the module comment for their order. */
export function metricsColumns(rows: readonly Map<string, Cell>[]): string[] {
  const firstSeen: string[] = [];
  const seen = new Set<string>();
  for (const row of rows)
    for (const column of row.keys()) {
      if (seen.has(column)) continue;
      seen.add(column);
      firstSeen.push(column);
    }
  // A stable sort keeps first appearance within one rank (one nested object, or the unknown keys).
  return firstSeen.map((column, i) => ({ column, i })).sort((a, b) => rank(a.column) - rank(b.column) || a.i - b.i).map(({ column }) => column);
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function csvField(value: Cell | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** metrics.csv's text for these lines: a header row, then one row per line; ends with a newline (empty without lines). */
export function metricsCsv(lines: readonly EpochMetrics[]): string {
  if (lines.length === 0) return '';
  const rows = lines.map((line) => flatten(line as unknown as Record<string, unknown>));
  const columns = metricsColumns(rows);
  return [columns.map(csvField).join(','), ...rows.map((row) => columns.map((column) => csvField(row.get(column))).join(','))].join('\n') + '\n';
}

/** Rewrites metrics.csv from metrics.jsonl's lines, replaced atomically (never a partial row). */
export async function writeMetricsCsv(dir: string, lines: readonly EpochMetrics[]): Promise<string> {
  const file = path.join(dir, METRICS_CSV_FILE);
  await writeFileAtomically(file, metricsCsv(lines));
  return file;
}
