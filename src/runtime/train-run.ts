/**
 * `mono run` below the command line: a compiled plan trained into a run folder, new or
 * resumed. The backend is chosen and every phase checked against its memory before
 * anything is allocated; the data is loaded (and checked against the network) before
 * the folder exists; the folder is locked before anything in it is read or written.
 * The CLI parses arguments, compiles the plan, handles signals and prints; everything
 * here reports through `events` and fails with a RuntimeFailure (src/cli/main.ts maps it).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { IR } from '../ir/types.js';
import type { LrBounds } from '../optim/schedule.js';
import { selectBackend } from './backend.js';
import type { BackendChoice } from './backend-choices.js';
import { hasCheckpoint, planHash, readCheckpointHeader, type CheckpointEntry, type CheckpointHeader } from './checkpoint.js';
import { loadDataFor } from './data/dataset.js';
import { RunInterrupted, RuntimeFailure, WriteFailure, writeFailure } from './errors.js';
import { assertPhasesFit, webgpuMemoryOf } from './memory-check.js';
import { createDefaultRunDir, createRunFolder, writeRunFiles, type RunInfo } from './run-folder.js';
import { LOCK_FILE, RunLock, type LockOwner } from './run-lock.js';
import { runSession, type CheckpointProgress, type SessionResult } from './session.js';
import type { BatchProgress, EpochMetrics, LrBoundsEvent } from './trainer.js';

export interface TrainEvents {
  /** The run is about to start training (folder locked, files written). */
  started?(start: TrainStart): void;
  batch?(progress: BatchProgress): void;
  epoch?(metrics: EpochMetrics): void;
  /** A phase's `mi(bounds: lr_find)` bounds are settled (its sweep's files, if any, written). */
  lrBounds?(event: LrBoundsEvent & { files: string[] }): void;
  /** Something the user should know that does not stop the run. */
  warning?(text: string): void;
  /** A large checkpoint being saved or read (resume, --init-from): for a progress bar. */
  checkpoint?(progress: CheckpointProgress): void;
  /** The backend is chosen and the plan fits it; nothing is loaded yet (the CLI estimates the run's time here). */
  backendChosen?(backend: BackendChoice): void;
  /**
   * The folder is locked: `releaseSync` frees the lock at once (a second SIGINT exits
   * the process without unwinding).
   */
  locked?(dir: string, releaseSync: () => void): void;
}

export interface TrainStart {
  dir: string;
  plan: string;
  backend: BackendChoice;
  threads: number;
  seed: number;
  phases: number;
  /** Where training starts: a fresh run, a folder without a checkpoint started over, or a checkpoint's position. */
  from: { kind: 'new' } | { kind: 'over' } | { kind: 'checkpoint'; phaseIndex: number; nextEpoch: number };
}

export interface TrainOptions {
  ir: IR;
  /** The plan source as run (written to the folder as plan.mono). */
  source: string;
  /** The --set values the IR was compiled with (kept in run.json for --resume). */
  set: Record<string, string>;
  /** Absolute path of the plan file (relative data paths start from its folder). */
  planFile: string;
  /** Continue the run in this folder (absolute); its run.json has been read into `previous`. */
  resume?: { dir: string; previous: RunInfo };
  /** The folder of a new run (absolute); default runs/<plan>-<time>/ under `cwd`. */
  out?: string;
  cwd: string;
  /** Resume a changed plan, a misfit checkpoint; --init-from with no weight that fits. */
  force?: boolean;
  /** A run folder (absolute) whose weights a new run starts from. */
  initFrom?: string;
  seed?: number;
  maxEpochs?: number;
  backend?: BackendChoice;
  /** Bounds for one `mi(bounds: lr_find)` phase, from `mono lr-find --out DIR` (file for messages). */
  lrBounds?: { file: string; phase: string; bounds: LrBounds };
  /** mono's data cache. */
  cacheDir: string;
  /** The command line, recorded in the lock. */
  command: string;
  /** Aborted by SIGINT/SIGTERM (reason: a RunInterrupted): the run stops after the current step. */
  signal?: AbortSignal;
  /** How messages show a path (relative to the working directory when inside it). */
  show(file: string): string;
  events?: TrainEvents;
}

export type TrainOutcome =
  | { kind: 'already-finished'; dir: string; phases: number }
  | {
      kind: 'trained';
      dir: string;
      /** Every phase has run (otherwise --max-epochs stopped it). */
      finished: boolean;
      epochs: number;
      last: EpochMetrics | undefined;
      plots: string[];
      /** --init-from: what was loaded and skipped. */
      initialized: SessionResult['initialized'];
      /** A forced resume: how the checkpoint differed from the plan. */
      mismatches: string[];
    };

/** Trains (or resumes) a run; see the file comment. */
export async function trainRun(options: TrainOptions): Promise<TrainOutcome> {
  const { ir, events = {} } = options;
  // A phase too big for the backend is refused before anything is allocated, the data
  // included; the data is loaded before the run folder exists (missing, malformed or
  // mismatched data leaves nothing behind).
  const backend = await selectBackend(options.backend !== undefined ? { force: options.backend } : {});
  assertPhasesFit(ir, backend.name, ir.phases, undefined, webgpuMemoryOf(backend.adapter));
  for (const warning of backend.warnings) events.warning?.(warning);
  events.backendChosen?.(backend.name);
  const data = await loadDataFor(ir, { baseDir: path.dirname(options.planFile), cacheDir: options.cacheDir });
  const previous = options.resume?.previous;
  const seed = options.seed ?? previous?.seed ?? ir.data.seed;

  let dir: string;
  if (options.resume) dir = options.resume.dir;
  else if (options.out !== undefined) {
    dir = options.out;
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw writeFailure(dir, error);
    });
  } else dir = await createDefaultRunDir(ir.plan, options.cwd);
  const lock = await RunLock.acquire(dir, {
    command: options.command,
    onStale: (owner: LockOwner | undefined) =>
      events.warning?.(
        `took over ${options.show(path.join(dir, LOCK_FILE))}, left by ${owner ? `pid ${owner.pid} (started ${owner.startedAt}), which is no longer running` : 'a process that is gone'}`,
      ),
  });
  events.locked?.(dir, () => lock.releaseSync());
  try {
    return await trainInFolder({ ...options, dir, seed, backend, data, events });
  } finally {
    await lock.release();
  }
}

interface InFolder extends Omit<TrainOptions, 'backend'> {
  dir: string;
  seed: number;
  backend: { name: BackendChoice; threads: number };
  data: Awaited<ReturnType<typeof loadDataFor>>;
  events: TrainEvents;
}

/** The part of a run that happens under the folder's lock. */
async function trainInFolder(p: InFolder): Promise<TrainOutcome> {
  const { ir, dir, events } = p;
  const where = p.show(dir);
  const previous = p.resume?.previous;
  // A resumed folder without a checkpoint completed no epoch: it starts over, with its seed and --set values.
  // Only the header here: the session reads the values (and checks the checksum) into its network once that exists.
  const resume: CheckpointHeader | undefined = p.resume && (await hasCheckpoint(dir)) ? await readCheckpointHeader(dir) : undefined;
  if (resume && resume.planHash !== planHash(ir)) {
    if (!p.force) {
      throw new RuntimeFailure(`the plan changed since ${where} was checkpointed (its source or its --set params differ), so resuming could mix two plans.`, {
        hint: `Resume it unchanged, start a new run (--init-from ${where} keeps its weights), or pass --force.`,
      });
    }
    events.warning?.('the plan changed since the checkpoint; continuing (--force)');
  }
  if (resume && resume.state.phaseIndex >= ir.phases.length) return { kind: 'already-finished', dir, phases: ir.phases.length };

  const initFromDir = p.initFrom ?? previous?.initFrom;
  const info: RunInfo = {
    plan: ir.plan,
    planFile: p.planFile,
    seed: p.seed,
    set: p.set,
    backend: p.backend.name,
    startedAt: previous?.startedAt ?? new Date().toISOString(),
    ...(initFromDir !== undefined ? { initFrom: initFromDir } : {}),
  };
  // Weights to start from: only when the run starts (not when it continues from its own checkpoint).
  // The header here (what fits is known from it); the session reads the values into its network once that exists.
  const initFrom = initFromDir !== undefined && !resume ? initFromDir : undefined;
  const initWeights = initFrom !== undefined ? (await readCheckpointHeader(initFrom)).tensors.filter((t) => t.kind === 'weight') : [];
  if (initFrom !== undefined && !p.force && !initWeights.some((w) => fitsParameter(w, ir))) {
    const count = `${initWeights.length} weight${initWeights.length === 1 ? '' : 's'}`;
    throw new RuntimeFailure(
      `--init-from ${p.show(initFromDir!)}: none of its ${count} fits a parameter of ${ir.plan} by name and shape, so the run would train from scratch; pass --force to do that anyway`,
    );
  }
  if (!p.resume) await createRunFolder(dir, { source: p.source, ir, info });
  else await writeRunFiles(dir, { source: p.source, ir, info });

  events.started?.({
    dir,
    plan: ir.plan,
    backend: p.backend.name,
    threads: p.backend.threads,
    seed: p.seed,
    phases: ir.phases.length,
    from: resume ? { kind: 'checkpoint', phaseIndex: resume.state.phaseIndex, nextEpoch: resume.state.nextEpoch } : p.resume ? { kind: 'over' } : { kind: 'new' },
  });

  let trained = false;
  let result: SessionResult;
  try {
    result = await runSession({
      ir,
      dir,
      seed: p.seed,
      ...(resume ? { resume } : {}),
      ...(initFrom !== undefined ? { initFrom } : {}),
      ...(p.maxEpochs !== undefined ? { maxEpochs: p.maxEpochs } : {}),
      ...(p.lrBounds ? { lrBounds: { [p.lrBounds.phase]: p.lrBounds.bounds } } : {}),
      ...(p.force ? { force: true } : {}),
      ...(p.signal ? { signal: p.signal } : {}),
      data: p.data,
      onBatch: (b) => {
        trained = true;
        events.batch?.(b);
      },
      onEpoch: (m) => events.epoch?.(m),
      onLrBounds: (event) => events.lrBounds?.(event),
      onCheckpointProgress: (progress) => events.checkpoint?.(progress),
    });
  } catch (error) {
    throw await withResumeHint(error, dir, where, trained);
  }
  return {
    kind: 'trained',
    dir,
    finished: result.finished,
    epochs: result.epochs,
    last: result.last,
    plots: result.plots,
    initialized: result.initialized,
    mismatches: result.mismatches ?? [],
  };
}

/**
 * A failure of the session, told with what the folder now allows: an interruption says
 * how to continue (or that nothing was trained yet); a full disk to free space first; any
 * other failure after training began, that the last good checkpoint is there to resume.
 * Errors that are not runtime failures (bugs) pass unchanged.
 */
async function withResumeHint(error: unknown, dir: string, where: string, trained: boolean): Promise<unknown> {
  const checkpointed = await hasCheckpoint(dir);
  if (error instanceof RunInterrupted) {
    return new RunInterrupted(
      error.signal,
      checkpointed
        ? `interrupted; continue with mono run --resume ${where}`
        : `interrupted before the first epoch completed; nothing was trained yet (start again with mono run --resume ${where})`,
    );
  }
  const failure = error instanceof RuntimeFailure ? error : describeSystemError(error);
  if (failure === undefined || failure.hint !== undefined) return error;
  if (failure instanceof WriteFailure && (failure.code === 'ENOSPC' || failure.code === 'EDQUOT')) {
    failure.hint = `free some space, then ${checkpointed ? 'continue' : 'start again'} with: mono run --resume ${where}`;
  } else if (checkpointed && trained) {
    failure.hint = `the last good checkpoint is in ${where}; continue with: mono run --resume ${where}`;
  }
  return failure;
}

/** A system I/O error (ENOSPC, EACCES, ...) as a RuntimeFailure with its message; undefined for anything else. */
function describeSystemError(error: unknown): RuntimeFailure | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  return new RuntimeFailure(`I/O error: ${(error as Error).message}`, { cause: error });
}

/** Whether a checkpoint weight would be loaded into the plan: a parameter of that name and shape. */
function fitsParameter(weight: CheckpointEntry, ir: IR): boolean {
  const spec = ir.parameters.find((s) => s.name === weight.name);
  return spec !== undefined && spec.shape.length === weight.shape.length && spec.shape.every((d, i) => d === weight.shape[i]);
}
