/** The work of `mono run PLAN`: train a plan partition by partition into a run folder. */
import path from 'node:path';
import { compilePlan } from '../../compile.js';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import type { IR } from '../../ir/types.js';
import { needsLrFindBounds } from '../../optim/schedule.js';
import {
  BACKEND_CHOICES,
  dataCacheRoot,
  formatLrBoundsLine,
  PLAN_FILE,
  ProgressReporter,
  readLrFindBounds,
  readRunInfo,
  readBenchCache,
  readRunPlan,
  requireUsableLrFindBounds,
  RunInterrupted,
  train,
  EXIT_ON_SIGNAL,
  type BackendChoice,
  type TrainOptions,
} from '../../runtime/index.js';
import { longRunWarning } from '../time-estimate.js';
import { expectPositionals, optionalInteger, parseCommandArgs, parseSetOverrides } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type CommandIO } from '../command.js';
import { plural, readInputFile, reportDiagnostics, shownPath, sourcesWithOverrides } from '../io.js';

const optionSpec = {
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
  const { values, positionals } = parseCommandArgs(args, optionSpec);
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
  const lrBounds = values['lr-find'] !== undefined ? await givenLrBounds(values['lr-find'], ir, io) : undefined;

  const progress = new ProgressReporter(io.stdout);
  const show = (file: string) => shownPath(io.cwd, file);
  // Once the folder is locked, the first SIGINT/SIGTERM stops the run after the current
  // step; a second exits at once, the lock released. Before that, a signal ends the process.
  let folder: { dir: string; releaseSync(): void } | undefined;
  const interrupts = interruptListener(() => {
    folder?.releaseSync();
    io.stderr.write(`\nmono run: interrupted again: stopping now; continue with mono run --resume ${show(folder!.dir)}\n`);
  });
  const options: TrainOptions = {
    ir,
    source,
    set,
    planFile,
    ...(resumeDir !== undefined ? { resume: { dir: resumeDir, previous: previous! } } : {}),
    ...(values.out !== undefined ? { out: path.resolve(io.cwd, values.out) } : {}),
    cwd: io.cwd,
    ...(values.force ? { force: true } : {}),
    ...(values['init-from'] !== undefined ? { initFrom: path.resolve(io.cwd, values['init-from']) } : {}),
    ...(seedArg !== undefined ? { seed: seedArg } : {}),
    ...(maxEpochs !== undefined ? { maxEpochs } : {}),
    ...(values.backend !== undefined ? { backend: values.backend as BackendChoice } : {}),
    ...(lrBounds ? { lrBounds } : {}),
    cacheDir: dataCacheRoot(io.env),
    command: ['mono', 'run', ...args].join(' '),
    signal: interrupts.signal,
    show,
    events: {
      locked: (dir, releaseSync) => {
        folder = { dir, releaseSync };
        interrupts.listen();
      },
      warning: (text) => {
        progress.clear();
        io.stderr.write(`mono run: warning: ${text}\n`);
      },
      // A new run that would take more than a day on this backend says so before it starts.
      backendChosen: (backend) => {
        const long = resumeDir === undefined ? longRunWarning(ir, backend, readBenchCache(io.env)) : undefined;
        if (long !== undefined) io.stderr.write(`mono run: warning: ${long}\n`);
      },
      started: (start) => {
        const from =
          start.from.kind === 'checkpoint'
            ? `resuming at phase ${start.from.phaseIndex + 1}/${start.phases}, epoch ${start.from.nextEpoch + 1}`
            : start.from.kind === 'over'
              ? 'starting over (no epoch had completed)'
              : plural(start.phases, 'phase');
        progress.message(`mono run: ${start.plan} on ${start.backend} (${plural(start.threads, 'thread')}), seed ${start.seed}, ${from}, into ${show(start.dir)}`);
        if (lrBounds) progress.message(`mono run: ${lrBounds.phase} takes lr bounds min ${lrBounds.bounds.min.toPrecision(3)}, max ${lrBounds.bounds.max.toPrecision(3)} from ${show(lrBounds.file)}`);
      },
      batch: (b) => progress.batch(b),
      // Large checkpoints (tens of seconds at monolithnet's size) show a bar while they are saved or read.
      // The file's name only: a long path would make the line wrap, which redrawing in place cannot undo.
      checkpoint: (c) => progress.transfer({ file: `${c.action} ${path.basename(c.file)}`, done: c.done, total: c.total, bytesPerSecond: c.bytesPerSecond }),
      epoch: (m) => progress.epoch(m),
      lrBounds: (event) => {
        const line = formatLrBoundsLine(event);
        if (line === undefined) return;
        if (event.source !== 'plan') return progress.message(`mono run: ${line}`);
        progress.clear();
        io.stderr.write(`mono run: ${line}\n`);
      },
    },
  };
  let outcome;
  try {
    outcome = await train(options);
  } catch (error) {
    // The failure itself is reported by src/cli/main.ts, after the progress bar's line is ended.
    progress.end();
    throw error;
  } finally {
    interrupts.dispose();
  }
  const where = show(outcome.dir);
  if (outcome.kind === 'already-finished') {
    progress.message(`mono run: ${where} has finished (all ${plural(outcome.phases, 'phase')}); nothing to resume. To train on from its weights: mono run PLAN --init-from ${where}`);
    return EXIT_OK;
  }
  if (outcome.mismatches.length > 0) {
    io.stderr.write(`mono run: warning: the checkpoint did not fit the plan (--force loaded what fits): ${outcome.mismatches.join('; ')}\n`);
  }
  if (outcome.initialized) {
    const { loaded, skipped } = outcome.initialized;
    io.stderr.write(`mono run: --init-from loaded ${loaded.length} parameters` + (skipped.length ? `; skipped ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '') + '\n');
  }
  const last = outcome.last;
  const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
  const summary = last
    ? `; last: ${last.phase} epoch ${last.epoch}, val_acc ${last.val_acc === null ? '-' : percent(last.val_acc)}` + (last.test_acc !== null ? `, test_acc ${percent(last.test_acc)}` : '')
    : '';
  const plots = outcome.plots.length > 0 ? `; plots: ${outcome.plots.map(show).join(', ')}` : '';
  progress.message(
    outcome.finished
      ? `mono run: done${summary}. Run folder: ${where}${plots}`
      : `mono run: stopped after ${plural(outcome.epochs, 'epoch')}${summary}. Continue with: mono run --resume ${where}${plots}`,
  );
  return EXIT_OK;
}

/**
 * SIGINT and SIGTERM while a run holds its folder (from listen() to dispose()): the first
 * aborts `signal` (the run stops after the current step, or after the checkpoint being
 * written); a second one exits at once (the lock released, the folder as a kill would
 * leave it: resumable).
 */
function interruptListener(beforeExit: () => void): { signal: AbortSignal; listen(): void; dispose(): void } {
  const controller = new AbortController();
  const handler = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!controller.signal.aborted) {
      controller.abort(new RunInterrupted(signal));
      return;
    }
    beforeExit();
    process.exit(EXIT_ON_SIGNAL[signal]);
  };
  return {
    signal: controller.signal,
    listen: () => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
    },
    dispose: () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}

/**
 * The bounds `mono lr-find --out DIR` suggested, for the phase it tested. That phase must
 * be one of the plan's `mi(bounds: lr_find)` phases, else the option would silently do nothing.
 */
async function givenLrBounds(dirArg: string, ir: IR, io: CommandIO): Promise<NonNullable<TrainOptions['lrBounds']>> {
  let found;
  try {
    found = await readLrFindBounds(path.resolve(io.cwd, dirArg));
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
  await requireUsableLrFindBounds(found);
  return { file: found.file, phase: found.phase, bounds: found.bounds };
}
