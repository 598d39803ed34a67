/** Links to the run folder's files, relative to where the report is written. */
import { formatBytes } from '../../summary/index.js';
import { absent, escapeHtml, htmlTable, section } from '../html.js';
import type { RunRecord } from '../types.js';

/** What each file of a run folder holds (docs/runtime.md, "Run folders"). */
const DESCRIPTIONS: Record<string, string> = {
  'plan.mono': 'the plan source as run',
  'ir.json': 'its compiled IR',
  'run.json': 'seed, --set values, backend, plan path',
  'metrics.jsonl': 'one JSON line per epoch',
  'metrics.csv': 'the same as a table, for spreadsheets',
  'confusion.json': 'confusion matrix of the latest hold-out evaluation',
  'checkpoint.bin': 'the latest checkpoint (weights, optimizer, schedules, RNG)',
  'lr-bounds.json': 'lr bounds of mi(bounds: lr_find) phases',
  'metrics.svg': 'accuracy plot',
  'loss.svg': 'loss plot',
  'lr.svg': 'lr plot',
  'report.html': 'this report',
};

/** An href for a file `name` inside the folder at `base` (a relative path, '' for the report's own folder). */
export function fileHref(base: string, name: string): string {
  const segments = [...(base === '' ? [] : base.split(/[\\/]/)), name];
  return segments.map((segment) => (segment === '..' || segment === '.' ? segment : encodeURIComponent(segment))).join('/');
}

export function filesSection(run: RunRecord, base: string): string {
  // run.lock comes and goes with the process that writes the folder: a link to it would soon be dead.
  const files = run.files.filter((file) => file.name !== 'run.lock');
  if (files.length === 0) return section('files', 'Files', absent('The run folder is empty.'));
  const rows = files.map((file) => [`<a href="${escapeHtml(fileHref(base, file.name))}">${escapeHtml(file.name)}</a>`, escapeHtml(formatBytes(file.bytes)), escapeHtml(DESCRIPTIONS[file.name] ?? (file.name.startsWith('lr-find-') ? 'LR range test of a phase' : ''))]);
  return section('files', 'Files', htmlTable(['file', 'size', 'holds'], rows, 'files'));
}
