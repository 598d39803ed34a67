/**
 * The run folder's derived views besides the plots (run-plots.ts), rewritten after
 * every epoch: confusion.json (the latest hold-out confusion matrix), metrics.csv
 * (metrics-csv.ts) and report.html (src/report/). Each is replaced atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { REPORT_FILE, reportFor } from '../report/index.js';
import { writeMetricsCsv } from './metrics-csv.js';
import { writeFileAtomically } from './run-folder.js';
import type { EpochMetrics, LastConfusion } from './trainer.js';

export const CONFUSION_FILE = 'confusion.json';

/** Writes the latest confusion matrix, or removes an older one when the epoch had no hold-out evaluation. */
export async function writeConfusion(dir: string, confusion: LastConfusion | null): Promise<void> {
  const file = path.join(dir, CONFUSION_FILE);
  if (confusion === null) await fs.rm(file, { force: true });
  else await writeFileAtomically(file, JSON.stringify(confusion) + '\n');
}

/** Rebuilds report.html of a run folder from its files; returns its path. */
export async function writeRunReport(dir: string): Promise<string> {
  const file = path.join(dir, REPORT_FILE);
  await writeFileAtomically(file, await reportFor([dir], file));
  return file;
}

/** metrics.csv and report.html from the folder's metrics lines (after an epoch, or when a run starts or resumes). */
export async function writeRunViews(dir: string, lines: readonly EpochMetrics[]): Promise<string[]> {
  return [await writeMetricsCsv(dir, lines), await writeRunReport(dir)];
}
