/**
 * report.html: a run folder (or several) as one self-contained web page. The
 * runtime calls writeReport's text builder after every epoch; `mono report`
 * rebuilds it for any folder. src/report/ reads the folder's files itself and
 * depends on src/ir/, src/summary/ and src/plot/ only (the runtime depends on it).
 */
import path from 'node:path';
import { buildReport } from './build.js';
import { readRunRecord } from './read-run.js';

export { buildReport, type BuildOptions } from './build.js';
export { looksLikeRunFolder, parseMetrics, readRunRecord, RUN_FOLDER_FILES } from './read-run.js';
export type { ConfusionRecord, MetricsLine, RunRecord } from './types.js';
export { escapeHtml, scriptJson } from './html.js';

export const REPORT_FILE = 'report.html';

/** The text of `outFile` reporting the run folders `dirs` (absolute), their curves overlaid when several. */
export async function reportFor(dirs: readonly string[], outFile: string, generatedAt = new Date()): Promise<string> {
  const records = [];
  for (const dir of dirs) records.push(await readRunRecord(dir));
  const outDir = path.dirname(outFile);
  const runPaths = dirs.map((dir) => path.relative(outDir, dir).split(path.sep).join('/'));
  return buildReport(records, { generatedAt, runPaths });
}
