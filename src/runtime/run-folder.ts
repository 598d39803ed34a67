import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { IR } from '../ir/types.js';
import { validateIr } from '../ir/validate.js';
import { hasCheckpoint } from './checkpoint.js';
import { RuntimeFailure, writeFailure } from './errors.js';
import { faultPoint } from './fault-points.js';
import type { EpochMetrics } from './trainer.js';

/**
 * A run folder holds everything about one run:
 *   plan.mono      the plan source as run
 *   ir.json        its IR
 *   run.json       how it was started (seed, --set values, backend, plan path)
 *   metrics.jsonl  one JSON line per epoch per phase
 *   checkpoint.bin the latest checkpoint (see checkpoint.ts)
 *   run.lock       while a mono process writes into the folder (see run-lock.ts)
 *   lr-bounds.json bounds of `mi(bounds: lr_find)` phases and where they came from
 *   lr-find-<phase>.csv/.svg/.json  the LR range test run for such a phase
 *   metrics.svg, loss.svg, lr.svg   plots of the metrics so far (run-plots.ts)
 *
 * An epoch is complete once its checkpoint is in place. A folder without a checkpoint
 * therefore holds no completed epoch, whatever else a crash left in it, and a new run
 * may start over in it; a folder with one is continued with --resume.
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
  /** The run folder whose weights the run started from (--init-from), absolute. */
  initFrom?: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `runs/<plan>-<yyyymmdd-hhmmss>` under `cwd`, in local time (the name; createDefaultRunDir makes it unique). */
export function defaultRunDir(plan: string, cwd: string, now = new Date()): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return path.join(cwd, 'runs', `${plan}-${stamp}`);
}

/**
 * Creates a new, empty default run folder and returns its path: defaultRunDir's name,
 * or that name with `-2`, `-3`, ... when it exists. Each candidate is made with a
 * non-recursive mkdir, which fails on an existing folder, so two runs started in the
 * same second (in one process or two) never get the same folder.
 */
export async function createDefaultRunDir(plan: string, cwd: string, now = new Date()): Promise<string> {
  const base = defaultRunDir(plan, cwd, now);
  await fs.mkdir(path.dirname(base), { recursive: true });
  for (let n = 1; ; n++) {
    const dir = n === 1 ? base : `${base}-${n}`;
    try {
      await fs.mkdir(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(dir, error);
    }
  }
}

/**
 * Prepares a run folder for a new run and writes plan.mono, ir.json, run.json and an
 * empty metrics.jsonl. A folder without a checkpoint is taken as it is (a run killed or
 * failed before its first epoch completed left it: nothing in it counts); one with a
 * checkpoint is refused. The caller holds the folder's lock.
 */
export async function createRunFolder(dir: string, contents: { source: string; ir: IR; info: RunInfo }): Promise<void> {
  await fs.mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw writeFailure(dir, error);
  });
  if (await hasCheckpoint(dir)) {
    throw new RuntimeFailure(`${dir} already holds a run: continue it with --resume ${dir}, or choose another --out`);
  }
  faultPoint('run-folder-created');
  await writeRunFiles(dir, contents);
  faultPoint('run-files-written');
  await resetMetrics(dir);
}

/** (Re)writes the plan, its IR and the run info, each replaced atomically (also on a resume). */
export async function writeRunFiles(dir: string, contents: { source: string; ir: IR; info: RunInfo }): Promise<void> {
  await writeFileAtomically(path.join(dir, PLAN_FILE), contents.source, { sync: true });
  await writeFileAtomically(path.join(dir, IR_FILE), JSON.stringify(contents.ir, null, 2) + '\n', { sync: true });
  await writeFileAtomically(path.join(dir, RUN_FILE), JSON.stringify(contents.info, null, 2) + '\n', { sync: true });
}

/**
 * Replaces a small text file of the run folder through a temporary file and a rename,
 * so a kill mid-write leaves the old file or the new one, never a truncated mix
 * (checkpoint.bin has its own writer). With `unique`, the temporary file's name is the
 * writer's own (for writers that may run beside the run). With `sync`, the data is fsynced before the
 * rename (files a resume depends on). A failed write is a WriteFailure naming the file.
 */
export async function writeFileAtomically(file: string, text: string, options: { sync?: boolean; unique?: boolean } = {}): Promise<void> {
  // `unique`: a writer that does not hold the folder's lock (mono report) must not share
  // the run's temporary file, or one writer's rename would take the other's file away.
  const temporary = options.unique ? `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp` : `${file}.tmp`;
  try {
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(text);
      if (options.sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw writeFailure(file, error);
  }
}

const runInfoSchema = {
  type: 'object',
  required: ['plan', 'seed', 'set', 'backend', 'startedAt'],
  properties: {
    plan: { type: 'string', minLength: 1 },
    planFile: { type: 'string', minLength: 1 },
    seed: { type: 'integer' },
    set: { type: 'object', additionalProperties: { type: 'string' } },
    backend: { type: 'string' },
    startedAt: { type: 'string' },
    initFrom: { type: 'string', minLength: 1 },
  },
} as const;
let validateRunInfo: ReturnType<Ajv['compile']> | undefined;

/** The run info of a run folder; a missing or damaged run.json is a RuntimeFailure naming it and what to do. */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  const file = path.join(dir, RUN_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && (await fs.stat(dir).then((s) => s.isDirectory(), () => false))) {
      if (await hasCheckpoint(dir)) throw new RuntimeFailure(`${dir} has a checkpoint but no ${RUN_FILE} (it records the run's seed and --set values): restore it to resume`);
      throw new RuntimeFailure(`${dir} has no ${RUN_FILE}: the run that made it stopped before it started; start it again with mono run PLAN --out ${dir}`);
    }
    throw new RuntimeFailure(`${dir} is not a mono run folder (cannot read ${RUN_FILE}: ${code ?? (error as Error).message})`);
  }
  const damaged = (why: string) => new RuntimeFailure(`${file} is damaged (${why}); it records the run's seed and --set values: restore it to resume`);
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (error) {
    throw damaged(`not JSON: ${(error as Error).message}`);
  }
  validateRunInfo ??= new Ajv({ strict: true }).compile(runInfoSchema);
  if (!validateRunInfo(info)) {
    const error = validateRunInfo.errors?.[0];
    throw damaged(error ? `${error.instancePath === '' ? 'the object' : error.instancePath} ${error.message ?? 'is invalid'}` : 'invalid');
  }
  return info as RunInfo;
}

/**
 * The IR a run folder was trained from (ir.json, checked against the IR schema); missing
 * or damaged: a RuntimeFailure naming the file.
 */
export async function readRunIr(dir: string): Promise<IR> {
  const file = path.join(dir, IR_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new RuntimeFailure(`${dir} is not a mono run folder (cannot read ${IR_FILE}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let ir: unknown;
  try {
    ir = JSON.parse(text);
  } catch (error) {
    throw new RuntimeFailure(`${file} is damaged (not JSON: ${(error as Error).message})`);
  }
  const { valid, errors } = validateIr(ir);
  if (!valid) throw new RuntimeFailure(`${file} is damaged (${errors[0] ?? 'not a mono IR'})`);
  return ir as IR;
}

export async function readRunPlan(dir: string): Promise<string> {
  try {
    return await fs.readFile(path.join(dir, PLAN_FILE), 'utf8');
  } catch (error) {
    throw new RuntimeFailure(`${dir} has no ${PLAN_FILE}: ${(error as Error).message}`);
  }
}

/**
 * Appends one epoch's line, fsynced; returns the file's size after it (what a
 * checkpoint records). A failed write is cut back off (a checkpoint never counts it
 * anyway) and reported as a WriteFailure naming metrics.jsonl.
 */
export async function appendMetrics(dir: string, metrics: EpochMetrics): Promise<number> {
  const file = path.join(dir, METRICS_FILE);
  let handle: FileHandle | undefined;
  let before: number | undefined;
  try {
    handle = await fs.open(file, 'a');
    before = (await handle.stat()).size;
    await handle.write(JSON.stringify(metrics) + '\n');
    await handle.sync();
    const size = (await handle.stat()).size;
    faultPoint('metrics-appended');
    return size;
  } catch (error) {
    if (handle && before !== undefined) await handle.truncate(before).catch(() => undefined);
    throw writeFailure(file, error);
  } finally {
    await handle?.close();
  }
}

/** Starts metrics.jsonl empty (a new run, or one starting over in a folder without a checkpoint). */
export async function resetMetrics(dir: string): Promise<void> {
  const file = path.join(dir, METRICS_FILE);
  await fs.writeFile(file, '').catch((error: unknown) => {
    throw writeFailure(file, error);
  });
}

/**
 * Cuts metrics.jsonl back to the `bytes` a checkpoint recorded, so a resumed run repeats
 * no line (lines after it belong to an epoch whose checkpoint never landed, or are a
 * partial line). The lines kept must be whole JSON lines; a file shorter than `bytes`
 * lost lines and is refused, unless `force`, which keeps what is there. Never pads.
 */
export async function rewindMetrics(dir: string, bytes: number, options: { force?: boolean } = {}): Promise<void> {
  const file = path.join(dir, METRICS_FILE);
  let handle: FileHandle;
  try {
    handle = await fs.open(file, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (bytes > 0 && !options.force) {
      throw new RuntimeFailure(`${file} is missing, but the checkpoint recorded ${bytes} bytes of metrics: restore it, or pass --force to resume without the earlier epochs' metrics`);
    }
    return resetMetrics(dir);
  }
  try {
    const { size } = await handle.stat();
    if (size < bytes && !options.force) {
      throw new RuntimeFailure(
        `${file} holds ${size} bytes, fewer than the ${bytes} the checkpoint recorded (lines were lost): restore it, or pass --force to resume with the metrics that are left`,
      );
    }
    const kept = Math.min(size, bytes);
    const text = Buffer.alloc(kept);
    if (kept > 0) await handle.read(text, 0, kept, 0);
    if (!options.force) {
      parseMetricsLines(text.toString('utf8'), file);
      if (kept > 0 && text[kept - 1] !== 0x0a) throw new RuntimeFailure(`${file}: the ${bytes} bytes the checkpoint recorded do not end with a whole line (damaged)`);
    }
    if (size > kept) await handle.truncate(kept);
  } finally {
    await handle.close();
  }
}

/** The lines of metrics.jsonl; a damaged line is a RuntimeFailure naming the file and the line number. */
function parseMetricsLines(text: string, file: string): EpochMetrics[] {
  const metrics: EpochMetrics[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      // A last line without its newline is one being written (or cut off by a crash): not damage.
      if (i === lines.length - 1) continue;
      throw new RuntimeFailure(`${file} line ${i + 1} is damaged (not JSON: ${(error as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as EpochMetrics).phase !== 'string') {
      throw new RuntimeFailure(`${file} line ${i + 1} is damaged (not an epoch's metrics)`);
    }
    metrics.push(parsed as EpochMetrics);
  }
  return metrics;
}

export async function readMetrics(dir: string): Promise<EpochMetrics[]> {
  const file = path.join(dir, METRICS_FILE);
  return parseMetricsLines(await fs.readFile(file, 'utf8'), file);
}
