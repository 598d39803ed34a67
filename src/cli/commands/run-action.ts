/** The work of `mono run PLAN`: train a plan partition by partition into a run folder. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { compilePlan } from '../../compile.js';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import type { IR } from '../../ir/types.js';
import type { LrBounds } from '../../optim/schedule.js';
import { needsLrFindBounds } from '../../optim/schedule.js';
import { BACKEND_CHOICES, selectBackend } from '../../runtime/backend.js';
import { hasCheckpoint, planHash, readCheckpoint, type Checkpoint } from '../../runtime/checkpoint.js';
import { RunInterrupted, RuntimeFailure, WriteFailure, writeFailure } from '../../runtime/errors.js';
import type { NamedWeights } from '../../runtime/graph.js';
import { readLrFindSummary, requireUsableLrFind } from '../../runtime/lr-find.js';
import { assertPhasesFit, webgpuMemoryOf } from '../../runtime/memory-check.js';
import { readBenchCache } from '../../runtime/throughput-cache.js';
import { longRunWarning } from '../time-estimate.js';
import { formatLrBoundsLine, ProgressReporter } from '../../runtime/progress.js';
import { dataCacheRoot } from '../../runtime/data/cache.js';
import { loadDataFor, type LoadedData } from '../../runtime/data/dataset.js';
import { createDefaultRunDir, createRunFolder, PLAN_FILE, readRunInfo, readRunPlan, writeRunFiles, type RunInfo } from '../../runtime/run-folder.js';
import { LOCK_FILE, RunLock } from '../../runtime/run-lock.js';
import { runSession } from '../../runtime/session.js';
import { expectPositionals, optionalInteger, parseCommandArgs, parseSetOverrides } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type CommandIO } from '../command.js';
import { plural, readInputFile, reportDiagnostics, shownPath, sourcesWithOverrides } from '../io.js';

const options = {
  out: { type: 'string' },
  resume: { type: 'string' },
  force: { type: 'boolean' },
  'init-from': { type: 'string' },
  set: { type: 'string', multiple: true },
  backend: { type: 'string' },
  seed: { type: 'string' },
  'max-epochs': { type: 'string' },
  'lr-find': { type: 'string' },
} as const;

/** The body of `mono run` (src/cli/commands/run.ts holds its name, summary and help). */
export async function runAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  // PLAN may be left out on --resume (the run folder knows its plan).
  const planArg = expectPositionals(positionals, 'PLAN (the .mono file to run), or --resume DIR', { min: 0 })[0];
  const resumeDir = values.resume !== undefined ? path.resolve(io.cwd, values.resume) : undefined;
  if (planArg === undefined && resumeDir === undefined) throw new UsageError('missing PLAN (the .mono file to run), or --resume DIR');
  if (resumeDir !== undefined && values.out !== undefined) throw new UsageError('--out and --resume exclude each other: a resumed run stays in its folder');
  if (resumeDir !== undefined && values['init-from'] !== undefined) throw new UsageError('--init-from starts a new run; --resume continues one with its own weights');
  if (values.force && resumeDir === undefined && values['init-from'] === undefined) throw new UsageError('--force only applies to --resume and --init-from');
  // A resumed run's RNG streams were drawn from its own seed (in run.json); another would mix two runs.
  if (resumeDir !== undefined && values.seed !== undefined) throw new UsageError('--seed cannot change a resumed run: it continues with the seed it was started with (see run.json)');
  const seedArg = optionalInteger(values.seed, '--seed');
  const maxEpochs = optionalInteger(values['max-epochs'], '--max-epochs', 1);
  if (values.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(values.backend)) {
    throw new UsageError(`unknown backend '${values.backend}' (choose one of: ${BACKEND_CHOICES.join(', ')})`);
  }

  // What to compile: the plan named, or the resumed folder's own copy with its --set values.
  const previous = resumeDir !== undefined ? await readRunInfo(resumeDir) : undefined;
  // Without PLAN the source is the folder's copy, but the plan's path stays the one
  // recorded in run.json: relative data paths start from the original plan's folder.
  const planFile = planArg !== undefined ? path.resolve(io.cwd, planArg) : path.resolve(io.cwd, previous!.planFile ?? path.join(resumeDir!, PLAN_FILE));
  const source = planArg !== undefined ? await readInputFile(planArg, io) : await readRunPlan(resumeDir!);
  const set = values.set !== undefined || previous === undefined ? parseSetOverrides(values.set) : previous.set;
  const shownName = planArg ?? shownPath(io.cwd, path.join(resumeDir!, PLAN_FILE));
  const compiled = compilePlan(source, shownName, { set });
  reportDiagnostics(compiled.diagnostics, sourcesWithOverrides({ [shownName]: source }, set), io);
  if (hasErrors(compiled.diagnostics)) return EXIT_PLAN_ERRORS;
  if (!compiled.ir) {
    io.stderr.write(`mono run: internal error: no IR and no error for '${shownName}'\n`);
    return EXIT_RUNTIME;
  }
  const ir: IR = compiled.ir;
  const given = values['lr-find'] !== undefined ? await givenLrBounds(values['lr-find'], ir, io) : undefined;

  // A phase too big for the backend is refused before anything is allocated, the data
  // included; the data is loaded before the run folder exists (missing, malformed or
  // mismatched data leaves nothing behind).
  const backend = await selectBackend(values.backend !== undefined ? { force: values.backend } : {});
  assertPhasesFit(ir, backend.name, ir.phases, undefined, webgpuMemoryOf(backend.adapter));
  for (const warning of backend.warnings) io.stderr.write(`mono run: warning: ${warning}\n`);
  // A new run that would take more than a day on this backend says so before it starts.
  const long = resumeDir === undefined ? longRunWarning(ir, backend.name, readBenchCache(io.env)) : undefined;
  if (long !== undefined) io.stderr.write(`mono run: warning: ${long}\n`);
  const data = await loadDataFor(ir, { baseDir: path.dirname(planFile), cacheDir: dataCacheRoot(io.env) });
  const seed = seedArg ?? previous?.seed ?? ir.data.seed;
  // The folder: the resumed one, the --out one, or a new default one (unique); locked before anything in it is read or written.
  let dir: string;
  if (resumeDir !== undefined) dir = resumeDir;
  else if (values.out !== undefined) {
    dir = path.resolve(io.cwd, values.out);
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw writeFailure(dir, error);
    });
  } else dir = await createDefaultRunDir(ir.plan, io.cwd);
  const lock = await RunLock.acquire(dir, {
    command: ['mono', 'run', ...args].join(' '),
    onStale: (owner) =>
      io.stderr.write(`mono run: warning: took over ${shownPath(io.cwd, path.join(dir, LOCK_FILE))}, left by ${owner ? `pid ${owner.pid} (started ${owner.startedAt}), which is no longer running` : 'a process that is gone'}\n`),
  });
  const interrupts = listenForInterrupts(() => {
    lock.releaseSync();
    io.stderr.write(`\nmono run: interrupted again: stopping now; continue with mono run --resume ${shownPath(io.cwd, dir)}\n`);
  });
  try {
    return await trainInFolder({ args: values, io, ir, source, set, planFile, previous, given, data, backend, seed, dir, maxEpochs, signal: interrupts.signal });
  } finally {
    interrupts.dispose();
    await lock.release();
  }
}

/** Exit codes of a run stopped by a signal, as a shell reports a process killed by it (128 + signal number). */
const EXIT_ON_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * SIGINT and SIGTERM while a run holds its folder: the first aborts `signal` (the run
 * stops after the current step, or after the checkpoint being written); a second one
 * exits at once (the lock released, the folder as a kill would leave it: resumable).
 */
function listenForInterrupts(beforeExit: () => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!controller.signal.aborted) {
      controller.abort(new RunInterrupted(signal));
      return;
    }
    beforeExit();
    process.exit(EXIT_ON_SIGNAL[signal]);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}

interface Prepared {
  args: { force?: boolean | undefined; 'init-from'?: string | undefined };
  io: CommandIO;
  ir: IR;
  source: string;
  set: Record<string, string>;
  planFile: string;
  previous: RunInfo | undefined;
  given: { file: string; phase: string; bounds: LrBounds } | undefined;
  data: LoadedData;
  backend: { name: string; threads: number };
  seed: number;
  dir: string;
  maxEpochs: number | undefined;
  signal: AbortSignal;
}

/** The part of `mono run` that happens under the folder's lock. */
async function trainInFolder(p: Prepared): Promise<number> {
  const { io, ir, dir, previous } = p;
  const where = shownPath(io.cwd, dir);
  const resuming = previous !== undefined;
  // A resumed folder without a checkpoint completed no epoch: it starts over, with its seed and --set values.
  const resume: Checkpoint | undefined = resuming && (await hasCheckpoint(dir)) ? await readCheckpoint(dir) : undefined;
  if (resume && resume.planHash !== planHash(ir)) {
    if (!p.args.force) {
      io.stderr.write(
        `mono run: the plan changed since ${where} was checkpointed ` +
          `(its source or its --set params differ), so resuming could mix two plans.\n` +
          `  Resume it unchanged, start a new run (--init-from ${where} keeps its weights), or pass --force.\n`,
      );
      return EXIT_RUNTIME;
    }
    io.stderr.write('mono run: warning: the plan changed since the checkpoint; continuing (--force)\n');
  }
  const progress = new ProgressReporter(io.stdout);
  if (resume && resume.state.phaseIndex >= ir.phases.length) {
    progress.message(`mono run: ${where} has finished (all ${plural(ir.phases.length, 'phase')}); nothing to resume. To train on from its weights: mono run PLAN --init-from ${where}`);
    return EXIT_OK;
  }

  const initFromDir = p.args['init-from'] !== undefined ? path.resolve(io.cwd, p.args['init-from']) : previous?.initFrom;
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
  const initFrom = initFromDir !== undefined && !resume ? (await readCheckpoint(initFromDir, { weightsOnly: true })).weights : undefined;
  if (initFrom && !p.args.force && !initFrom.some((w) => fitsParameter(w, ir))) {
    throw new RuntimeFailure(
      `--init-from ${shownPath(io.cwd, initFromDir!)}: none of its ${plural(initFrom.length, 'weight')} fits a parameter of ${ir.plan} by name and shape, ` +
        `so the run would train from scratch; pass --force to do that anyway`,
    );
  }
  if (!resuming) await createRunFolder(dir, { source: p.source, ir, info });
  else await writeRunFiles(dir, { source: p.source, ir, info });

  const start = resume
    ? `resuming at phase ${resume.state.phaseIndex + 1}/${ir.phases.length}, epoch ${resume.state.nextEpoch + 1}`
    : resuming
      ? 'starting over (no epoch had completed)'
      : `${ir.phases.length} phases`;
  progress.message(
    `mono run: ${ir.plan} on ${p.backend.name} (${p.backend.threads} thread${p.backend.threads === 1 ? '' : 's'}), seed ${p.seed}, ${start}, into ${where}`,
  );
  const given = p.given;
  if (given) progress.message(`mono run: ${given.phase} takes lr bounds min ${given.bounds.min.toPrecision(3)}, max ${given.bounds.max.toPrecision(3)} from ${shownPath(io.cwd, given.file)}`);

  let trained = false;
  let result;
  try {
    result = await runSession({
      ir,
      dir,
      seed: p.seed,
      ...(resume ? { resume } : {}),
      ...(initFrom ? { initFrom } : {}),
      ...(p.maxEpochs !== undefined ? { maxEpochs: p.maxEpochs } : {}),
      ...(given ? { lrBounds: { [given.phase]: given.bounds } } : {}),
      ...(p.args.force ? { force: true } : {}),
      signal: p.signal,
      data: p.data,
      onBatch: (b) => {
        trained = true;
        progress.batch(b);
      },
      onEpoch: (m) => progress.epoch(m),
      onLrBounds: (event) => {
        const line = formatLrBoundsLine(event);
        if (line === undefined) return;
        if (event.source !== 'plan') return progress.message(`mono run: ${line}`);
        progress.clear();
        io.stderr.write(`mono run: ${line}\n`);
      },
    });
  } catch (error) {
    progress.end();
    const checkpointed = await hasCheckpoint(dir);
    if (error instanceof RunInterrupted) {
      io.stderr.write(
        checkpointed
          ? `mono run: interrupted; continue with mono run --resume ${where}\n`
          : `mono run: interrupted before the first epoch completed; nothing was trained yet (start again with mono run --resume ${where})\n`,
      );
      return EXIT_ON_SIGNAL[error.signal];
    }
    const message = failureMessage(error);
    if (message === undefined) throw error;
    let hint = '';
    if (error instanceof WriteFailure && (error.code === 'ENOSPC' || error.code === 'EDQUOT')) {
      hint = `free some space, then ${checkpointed ? 'continue' : 'start again'} with: mono run --resume ${where}`;
    } else if (checkpointed && trained) {
      hint = `the last good checkpoint is in ${where}; continue with: mono run --resume ${where}`;
    }
    io.stderr.write(`mono run: ${message}\n${hint ? `  ${hint}\n` : ''}`);
    return EXIT_RUNTIME;
  }
  if (result.mismatches && result.mismatches.length > 0) {
    io.stderr.write(`mono run: warning: the checkpoint did not fit the plan (--force loaded what fits): ${result.mismatches.join('; ')}\n`);
  }
  if (result.initialized) {
    const { loaded, skipped } = result.initialized;
    io.stderr.write(`mono run: --init-from loaded ${loaded.length} parameters` + (skipped.length ? `; skipped ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '') + '\n');
  }
  const last = result.last;
  const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
  const summary = last
    ? `; last: ${last.phase} epoch ${last.epoch}, val_acc ${last.val_acc === null ? '-' : percent(last.val_acc)}` + (last.test_acc !== null ? `, test_acc ${percent(last.test_acc)}` : '')
    : '';
  const plots = result.plots.length > 0 ? `; plots: ${result.plots.map((file) => shownPath(io.cwd, file)).join(', ')}` : '';
  progress.message(
    result.finished
      ? `mono run: done${summary}. Run folder: ${where}${plots}`
      : `mono run: stopped after ${plural(result.epochs, 'epoch')}${summary}. Continue with: mono run --resume ${where}${plots}`,
  );
  return EXIT_OK;
}

/** Whether a checkpoint weight would be loaded into the plan: a parameter of that name and shape. */
function fitsParameter(weight: NamedWeights, ir: IR): boolean {
  const spec = ir.parameters.find((s) => s.name === weight.name);
  return spec !== undefined && spec.shape.length === weight.shape.length && spec.shape.every((d, i) => d === weight.shape[i]);
}

/** The one-line message of a runtime failure or a system I/O error; undefined for anything else (a bug). */
function failureMessage(error: unknown): string | undefined {
  if (error instanceof RuntimeFailure) return error.message;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `I/O error: ${(error as Error).message}`;
  return undefined;
}

/**
 * The bounds `mono lr-find --out DIR` suggested, for the phase it tested. That phase must
 * be one of the plan's `mi(bounds: lr_find)` phases, else the option would silently do nothing.
 */
async function givenLrBounds(dirArg: string, ir: IR, io: CommandIO): Promise<{ file: string; phase: string; bounds: LrBounds }> {
  let found;
  try {
    found = await readLrFindSummary(path.resolve(io.cwd, dirArg));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new UsageError(`--lr-find ${dirArg}: no lr-find.json there (write it with: mono lr-find PLAN --phase NAME --out ${dirArg})`);
    }
    throw error;
  }
  const takers = ir.phases.filter((p) => needsLrFindBounds(p.lr)).map((p) => p.name);
  if (!takers.includes(found.phase)) {
    const which = takers.length > 0 ? `the phases that do: ${takers.join(', ')}` : `no phase of ${ir.plan} does`;
    throw new UsageError(`--lr-find ${dirArg}: its bounds are for phase '${found.phase}', whose lr does not take lr_find bounds (${which})`);
  }
  requireUsableLrFind(found);
  return found;
}
