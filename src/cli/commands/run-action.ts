/** The work of `mono run PLAN`: train a plan partition by partition into a run folder. */
import path from 'node:path';
import { compilePlan } from '../../compile.js';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import type { IR } from '../../ir/types.js';
import type { LrBounds } from '../../optim/schedule.js';
import { needsLrFindBounds } from '../../optim/schedule.js';
import { BACKEND_CHOICES, selectBackend } from '../../runtime/backend.js';
import { hasCheckpoint, planHash, readCheckpoint, type Checkpoint } from '../../runtime/checkpoint.js';
import { RuntimeFailure } from '../../runtime/errors.js';
import { readLrFindSummary } from '../../runtime/lr-find.js';
import { assertPhasesFit } from '../../runtime/memory-check.js';
import { ProgressReporter } from '../../runtime/progress.js';
import { createRunFolder, defaultRunDir, PLAN_FILE, readRunInfo, readRunPlan, writeRunFiles, type RunInfo } from '../../runtime/run-folder.js';
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
  if (values.force && resumeDir === undefined) throw new UsageError('--force only applies to --resume');
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

  let resume: Checkpoint | undefined;
  if (resumeDir !== undefined) {
    resume = await readCheckpoint(resumeDir);
    if (resume.planHash !== planHash(ir)) {
      if (!values.force) {
        io.stderr.write(
          `mono run: the plan changed since ${shownPath(io.cwd, resumeDir)} was checkpointed ` +
            `(its source or its --set params differ), so resuming could mix two plans.\n` +
            `  Resume it unchanged, start a new run (--init-from ${values.resume} keeps its weights), or pass --force.\n`,
        );
        return EXIT_RUNTIME;
      }
      io.stderr.write('mono run: warning: the plan changed since the checkpoint; continuing (--force)\n');
    }
  }

  const backend = await selectBackend(values.backend !== undefined ? { force: values.backend } : {});
  assertPhasesFit(ir, backend.name);
  const seed = seedArg ?? previous?.seed ?? ir.data.seed;
  const dir = resumeDir ?? (values.out !== undefined ? path.resolve(io.cwd, values.out) : defaultRunDir(ir.plan, io.cwd));
  const info: RunInfo = { plan: ir.plan, planFile, seed, set, backend: backend.name, startedAt: previous?.startedAt ?? new Date().toISOString() };
  if (resumeDir === undefined) await createRunFolder(dir, { source, ir, info });
  else await writeRunFiles(dir, { source, ir, info });

  const initFrom = values['init-from'] !== undefined ? (await readCheckpoint(path.resolve(io.cwd, values['init-from']))).weights : undefined;
  const progress = new ProgressReporter(io.stdout);
  const where = shownPath(io.cwd, dir);
  progress.message(
    `mono run: ${ir.plan} on ${backend.name} (${backend.threads} thread${backend.threads === 1 ? '' : 's'}), seed ${seed}, ` +
      `${resume ? `resuming at phase ${resume.state.phaseIndex + 1}/${ir.phases.length}, epoch ${resume.state.nextEpoch + 1}` : `${ir.phases.length} phases`}, into ${where}`,
  );
  if (given) progress.message(`mono run: ${given.phase} takes lr bounds min ${given.bounds.min.toPrecision(3)}, max ${given.bounds.max.toPrecision(3)} from ${shownPath(io.cwd, given.file)}`);

  let result;
  try {
    result = await runSession({
      ir,
      dir,
      seed,
      ...(resume ? { resume } : {}),
      ...(initFrom ? { initFrom } : {}),
      ...(maxEpochs !== undefined ? { maxEpochs } : {}),
      ...(given ? { lrBounds: { [given.phase]: given.bounds } } : {}),
      dataBaseDir: path.dirname(planFile),
      onBatch: (p) => progress.batch(p),
      onEpoch: (m) => progress.epoch(m),
    });
  } catch (error) {
    progress.clear();
    if (error instanceof RuntimeFailure && (await hasCheckpoint(dir))) {
      io.stderr.write(`mono run: ${error.message}\n  the last good checkpoint is in ${where}; continue with: mono run --resume ${where}\n`);
      return EXIT_RUNTIME;
    }
    throw error;
  }
  if (result.initialized) {
    const { loaded, skipped } = result.initialized;
    io.stderr.write(`mono run: --init-from loaded ${loaded.length} parameters` + (skipped.length ? `; skipped ${skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}` : '') + '\n');
  }
  const last = result.last;
  const summary = last ? `; last: ${last.phase} epoch ${last.epoch}, val_acc ${last.val_acc === null ? '-' : (last.val_acc * 100).toFixed(2) + '%'}` : '';
  const plots = result.plots.length > 0 ? `; plots: ${result.plots.map((file) => shownPath(io.cwd, file)).join(', ')}` : '';
  progress.message(
    result.finished
      ? `mono run: done${summary}. Run folder: ${where}${plots}`
      : `mono run: stopped after ${plural(result.epochs, 'epoch')}${summary}. Continue with: mono run --resume ${where}${plots}`,
  );
  return EXIT_OK;
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
  return found;
}
