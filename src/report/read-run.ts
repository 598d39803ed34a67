/**
 * Reads a run folder for the report, forgivingly: a report is most wanted for a run
 * that crashed or is still going, so a missing or damaged file becomes a line in
 * RunRecord.problems, never a failure. (The runtime's own readers are strict: a
 * resume must not build on damage.)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { IR } from '../ir/types.js';
import { validateIr } from '../ir/validate.js';
import type { ConfusionRecord, MetricsLine, RunFileEntry, RunInfoRecord, RunRecord } from './types.js';

/** The names of the run folder files the report reads (the runtime writes them; see src/runtime/run-folder.ts). */
export const RUN_FOLDER_FILES = {
  plan: 'plan.mono',
  ir: 'ir.json',
  run: 'run.json',
  metrics: 'metrics.jsonl',
  confusion: 'confusion.json',
  lock: 'run.lock',
} as const;

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);
const numberRecord = (value: unknown): Record<string, number> =>
  isObject(value) ? Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number')) : {};

/** A metrics line from parsed JSON, or null when it is not one (no phase name). */
export function metricsLine(value: unknown): MetricsLine | null {
  if (!isObject(value) || typeof value.phase !== 'string') return null;
  return {
    phase: value.phase,
    epoch: numberOrNull(value.epoch) ?? 0,
    epochs: numberOrNull(value.epochs) ?? 0,
    head: typeof value.head === 'string' ? value.head : '?',
    loss: numberOrNull(value.loss),
    acc: numberOrNull(value.acc),
    val_loss: numberOrNull(value.val_loss),
    val_acc: numberOrNull(value.val_acc),
    test_loss: numberOrNull(value.test_loss),
    test_acc: numberOrNull(value.test_acc),
    mi: numberOrNull(value.mi),
    lr: numberOrNull(value.lr),
    momentum: numberOrNull(value.momentum),
    lr_groups: numberRecord(value.lr_groups),
    mi_groups: isObject(value.mi_groups) ? numberRecord(value.mi_groups) : null,
    seconds: numberOrNull(value.seconds),
    examples_per_s: numberOrNull(value.examples_per_s),
  };
}

/** The lines of metrics.jsonl that parse; a damaged line is skipped and named in `problems`. */
export function parseMetrics(text: string, problems: string[]): MetricsLine[] {
  const lines = text.split('\n');
  const metrics: MetricsLine[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // A last line without its newline is one being written, or cut off by a crash.
      problems.push(i === lines.length - 1 ? `metrics.jsonl ends with a partial line (left out)` : `metrics.jsonl line ${i + 1} is not JSON (left out)`);
      return;
    }
    const line = metricsLine(parsed);
    if (line) metrics.push(line);
    else problems.push(`metrics.jsonl line ${i + 1} is not an epoch's metrics (left out)`);
  });
  return metrics;
}

function runInfo(value: unknown): RunInfoRecord | null {
  if (!isObject(value) || typeof value.plan !== 'string') return null;
  return {
    plan: value.plan,
    ...(typeof value.planFile === 'string' ? { planFile: value.planFile } : {}),
    seed: numberOrNull(value.seed) ?? Number.NaN,
    set: isObject(value.set) ? Object.fromEntries(Object.entries(value.set).map(([k, v]) => [k, String(v)])) : {},
    backend: typeof value.backend === 'string' ? value.backend : '?',
    startedAt: typeof value.startedAt === 'string' ? value.startedAt : '?',
    ...(typeof value.initFrom === 'string' ? { initFrom: value.initFrom } : {}),
  };
}

function confusionRecord(value: unknown): ConfusionRecord | null {
  if (!isObject(value) || typeof value.phase !== 'string' || typeof value.classes !== 'number' || !Array.isArray(value.counts)) return null;
  const classes = value.classes;
  const counts = value.counts;
  const square = counts.length === classes && counts.every((row) => Array.isArray(row) && row.length === classes && row.every((c) => typeof c === 'number' && c >= 0));
  if (!square) return null;
  return {
    phase: value.phase,
    epoch: numberOrNull(value.epoch) ?? 0,
    head: typeof value.head === 'string' ? value.head : '?',
    classes,
    examples: numberOrNull(value.examples) ?? 0,
    counts: counts as number[][],
  };
}

/** Parses a JSON file's text; a damaged one adds a problem and gives undefined. */
function parseJson(text: string, name: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push(`${name} is not JSON (${(error as Error).message})`);
    return undefined;
  }
}

/** Whether `dir` holds any of the files a mono run folder starts with. */
export function looksLikeRunFolder(record: RunRecord): boolean {
  const names = new Set(record.files.map((f) => f.name));
  return [RUN_FOLDER_FILES.plan, RUN_FOLDER_FILES.ir, RUN_FOLDER_FILES.run, RUN_FOLDER_FILES.metrics].some((name) => names.has(name));
}

/** Everything the report shows of one run folder (it must exist and be a folder: fs errors propagate). */
export async function readRunRecord(dir: string): Promise<RunRecord> {
  const problems: string[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: RunFileEntry[] = [];
  const notFiles = new Set<string>();
  for (const entry of entries) {
    if (entry.isDirectory() || entry.name.endsWith('.tmp')) continue;
    // Through symbolic links: only regular files are read (a device such as /dev/full would never end).
    const stat = await fs.stat(path.join(dir, entry.name)).catch(() => null);
    if (stat?.isFile()) files.push({ name: entry.name, bytes: stat.size });
    else notFiles.add(entry.name);
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const read = async (name: string) => {
    if (!notFiles.has(name)) return readText(path.join(dir, name));
    problems.push(`${name} is not a regular file (left unread)`);
    return null;
  };

  const infoText = await read(RUN_FOLDER_FILES.run);
  let info: RunInfoRecord | null = null;
  if (infoText === null) problems.push(`no ${RUN_FOLDER_FILES.run}`);
  else {
    const parsed = parseJson(infoText, RUN_FOLDER_FILES.run, problems);
    info = parsed === undefined ? null : runInfo(parsed);
    if (parsed !== undefined && info === null) problems.push(`${RUN_FOLDER_FILES.run} is not a run's info`);
  }

  const irText = await read(RUN_FOLDER_FILES.ir);
  let ir: IR | null = null;
  if (irText === null) problems.push(`no ${RUN_FOLDER_FILES.ir}: no plan summary, network diagram or phases`);
  else {
    const parsed = parseJson(irText, RUN_FOLDER_FILES.ir, problems);
    if (parsed !== undefined) {
      const { valid, errors } = validateIr(parsed);
      if (valid) ir = parsed as IR;
      else problems.push(`${RUN_FOLDER_FILES.ir} does not match the IR schema (${errors[0] ?? 'invalid'})`);
    }
  }

  const metricsText = await read(RUN_FOLDER_FILES.metrics);
  if (metricsText === null && !notFiles.has(RUN_FOLDER_FILES.metrics)) problems.push(`no ${RUN_FOLDER_FILES.metrics}`);
  const metrics = metricsText === null ? [] : parseMetrics(metricsText, problems);

  const confusionText = await read(RUN_FOLDER_FILES.confusion);
  let confusion: ConfusionRecord | null = null;
  if (confusionText !== null) {
    const parsed = parseJson(confusionText, RUN_FOLDER_FILES.confusion, problems);
    confusion = parsed === undefined ? null : confusionRecord(parsed);
    if (parsed !== undefined && confusion === null) problems.push(`${RUN_FOLDER_FILES.confusion} is not a square table of counts`);
  }

  return {
    dir,
    name: path.basename(dir),
    info,
    ir,
    source: await read(RUN_FOLDER_FILES.plan),
    metrics,
    confusion,
    files,
    locked: files.some((f) => f.name === RUN_FOLDER_FILES.lock),
    problems,
  };
}
