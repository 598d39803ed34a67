import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { IR } from '../ir/types.js';
import { CHECKPOINT_FILE } from './checkpoint.js';
import { RuntimeFailure } from './errors.js';
import type { EpochMetrics } from './trainer.js';

/**
 * A run folder holds everything about one run:
 *   plan.mono      the plan source as run
 *   ir.json        its IR
 *   run.json       how it was started (seed, --set values, backend, plan path)
 *   metrics.jsonl  one JSON line per epoch per phase
 *   checkpoint.bin the latest checkpoint (see checkpoint.ts)
 *   lr-bounds.json bounds of `mi(bounds: lr_find)` phases and where they came from
 *   lr-find-<phase>.csv/.svg/.json  the LR range test run for such a phase
 *   metrics.svg, loss.svg, lr.svg   plots of the metrics so far (run-plots.ts)
 */
export const PLAN_FILE = 'plan.mono';
export const IR_FILE = 'ir.json';
export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const LR_BOUNDS_FILE = 'lr-bounds.json';

export interface RunInfo {
  plan: string;
  /** Path of the plan file the run was started from. */
  planFile: string;
  seed: number;
  set: Record<string, string>;
  backend: string;
  startedAt: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `runs/<plan>-<yyyymmdd-hhmmss>` under `cwd`, in local time. */
export function defaultRunDir(plan: string, cwd: string, now = new Date()): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return path.join(cwd, 'runs', `${plan}-${stamp}`);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Creates a run folder (or reuses one that holds no trained epoch, e.g. after a run
 * that failed to load its data) and writes plan.mono, ir.json, run.json and an empty metrics.jsonl.
 */
export async function createRunFolder(dir: string, contents: { source: string; ir: IR; info: RunInfo }): Promise<void> {
  const metricsSize = await fs.stat(path.join(dir, METRICS_FILE)).then((s) => s.size, () => 0);
  if ((await exists(path.join(dir, CHECKPOINT_FILE))) || metricsSize > 0) {
    throw new RuntimeFailure(`${dir} already holds a run: continue it with --resume ${dir}, or choose another --out`);
  }
  await fs.mkdir(dir, { recursive: true });
  await writeRunFiles(dir, contents);
  await fs.writeFile(path.join(dir, METRICS_FILE), '');
}

/** (Re)writes the plan, its IR and the run info (also on a forced resume with a changed plan). */
export async function writeRunFiles(dir: string, contents: { source: string; ir: IR; info: RunInfo }): Promise<void> {
  await fs.writeFile(path.join(dir, PLAN_FILE), contents.source);
  await fs.writeFile(path.join(dir, IR_FILE), JSON.stringify(contents.ir, null, 2) + '\n');
  await fs.writeFile(path.join(dir, RUN_FILE), JSON.stringify(contents.info, null, 2) + '\n');
}

/**
 * Replaces a small text file of the run folder through a temporary file and a rename,
 * so a kill mid-write leaves the old file or the new one, never a truncated mix
 * (checkpoint.bin has its own, fsyncing writer).
 */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  await fs.writeFile(temporary, text);
  await fs.rename(temporary, file);
}

export async function readRunInfo(dir: string): Promise<RunInfo> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, RUN_FILE), 'utf8')) as RunInfo;
  } catch (error) {
    throw new RuntimeFailure(`${dir} is not a mono run folder (cannot read ${RUN_FILE}: ${(error as Error).message})`);
  }
}

export async function readRunPlan(dir: string): Promise<string> {
  try {
    return await fs.readFile(path.join(dir, PLAN_FILE), 'utf8');
  } catch (error) {
    throw new RuntimeFailure(`${dir} has no ${PLAN_FILE}: ${(error as Error).message}`);
  }
}

/** Appends one epoch's line, fsynced; returns the file's size after it (what a checkpoint records). */
export async function appendMetrics(dir: string, metrics: EpochMetrics): Promise<number> {
  const handle = await fs.open(path.join(dir, METRICS_FILE), 'a');
  try {
    await handle.write(JSON.stringify(metrics) + '\n');
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

/** Cuts metrics.jsonl back to what the checkpoint had seen, so a resumed run repeats no line. */
export async function truncateMetrics(dir: string, bytes: number): Promise<void> {
  const file = path.join(dir, METRICS_FILE);
  if (!(await exists(file))) {
    await fs.writeFile(file, '');
    return;
  }
  await fs.truncate(file, bytes);
}

export async function readMetrics(dir: string): Promise<EpochMetrics[]> {
  const text = await fs.readFile(path.join(dir, METRICS_FILE), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochMetrics);
}
