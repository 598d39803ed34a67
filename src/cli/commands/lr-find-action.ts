/** The work of `mono lr-find PLAN`: the LR range test for one phase of a plan; suggests lr bounds. */
import path from 'node:path';
import { compilePlan } from '../../compile.js';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import { BACKEND_CHOICES, dataCacheRoot, defaultRunDir, findLr, LR_FIND_FROM, LR_FIND_TO, ProgressReporter, type BackendChoice } from '../../runtime/index.js';
import { expectPositionals, optionalInteger, optionalNumber, parseCommandArgs, parseSetOverrides } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type CommandIO } from '../command.js';
import { readInputFile, reportDiagnostics, shownPath, sourcesWithOverrides } from '../io.js';

const options = {
  phase: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  steps: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  set: { type: 'string', multiple: true },
  backend: { type: 'string' },
  seed: { type: 'string' },
  'init-from': { type: 'string' },
} as const;

/** The body of `mono lr-find` (src/cli/commands/lr-find.ts holds its name, summary and help). */
export async function lrFindAction(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, options);
  const planArg = expectPositionals(positionals, 'PLAN (the .mono file to test)')[0]!;
  const steps = optionalInteger(values.steps, '--steps', 2);
  const from = optionalNumber(values.from, '--from', { min: Number.MIN_VALUE });
  const to = optionalNumber(values.to, '--to', { min: Number.MIN_VALUE });
  if ((from ?? LR_FIND_FROM) >= (to ?? LR_FIND_TO)) throw new UsageError(`--from must be below --to (got ${from ?? LR_FIND_FROM} and ${to ?? LR_FIND_TO})`);
  const seedArg = optionalInteger(values.seed, '--seed');
  if (values.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(values.backend)) {
    throw new UsageError(`unknown backend '${values.backend}' (choose one of: ${BACKEND_CHOICES.join(', ')})`);
  }
  const set = parseSetOverrides(values.set);
  const source = await readInputFile(planArg, io);
  const compiled = compilePlan(source, planArg, { set });
  reportDiagnostics(compiled.diagnostics, sourcesWithOverrides({ [planArg]: source }, set), io);
  if (hasErrors(compiled.diagnostics)) return EXIT_PLAN_ERRORS;
  const ir = compiled.ir;
  if (!ir) {
    io.stderr.write(`mono lr-find: internal error: no IR and no error for '${planArg}'\n`);
    return EXIT_RUNTIME;
  }
  // The first phase with a learning rate by default: an stdp phase has none.
  const gradientPhases = ir.phases.filter((p) => p.optimizer.type !== 'stdp');
  const phase = values.phase === undefined ? gradientPhases[0] : ir.phases.find((p) => p.name === values.phase);
  if (!phase) {
    throw new UsageError(
      values.phase === undefined ? `${planArg} has no phase with a learning rate to test` : `no phase '${values.phase}' in ${planArg} (phases: ${ir.phases.map((p) => p.name).join(', ')})`,
    );
  }
  if (phase.optimizer.type === 'stdp') {
    throw new UsageError(`phase ${phase.name} of ${planArg} is trained by stdp, which has no learning rate to sweep (phases with one: ${gradientPhases.map((p) => p.name).join(', ') || 'none'})`);
  }

  // Messages go to stderr with --json, so stdout holds the JSON alone.
  const messages = new ProgressReporter(values.json ? io.stderr : io.stdout);
  // Frozen partitions never learn during the sweep: without trained weights they stay
  // random, and the bounds then fit a network the real run never has at this phase.
  const warnings: string[] = [];
  if (phase.frozen.length > 0 && values['init-from'] === undefined) {
    warnings.push(
      `phase ${phase.name} runs ${phase.frozen.join(', ')} frozen, and without --init-from they are untrained (random weights): ` +
        `the bounds are measured on untrained earlier partitions. Pass --init-from RUN_DIR, a run that trained them.`,
    );
  }
  for (const warning of warnings) io.stderr.write(`mono lr-find: warning: ${warning}\n`);
  const seed = seedArg ?? ir.data.seed;
  const dir = values.out !== undefined ? path.resolve(io.cwd, values.out) : defaultRunDir(`${ir.plan}-lr-find`, io.cwd);
  let outcome;
  try {
    outcome = await findLr({
      ir,
      phase,
      planFile: path.resolve(io.cwd, planArg),
      out: dir,
      seed,
      ...(values.backend !== undefined ? { backend: values.backend as BackendChoice } : {}),
      ...(values['init-from'] !== undefined ? { initFrom: path.resolve(io.cwd, values['init-from']) } : {}),
      sweep: { ...(steps !== undefined ? { steps } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) },
      cacheDir: dataCacheRoot(io.env),
      events: {
        ready: ({ backend, loaded }) => {
          if (loaded !== undefined) messages.message(`mono lr-find: --init-from loaded ${loaded} parameters`);
          messages.message(`mono lr-find: phase ${phase.name} of ${ir.plan} on ${backend}, seed ${seed}`);
        },
        step: (p) => messages.batch({ phase: `lr-find ${phase.name}`, epoch: 1, epochs: 1, step: p.step, steps: p.steps, loss: p.smoothed, examplesPerSecond: p.examplesPerSecond }),
      },
    });
  } catch (error) {
    // The failure itself is reported by src/cli/main.ts (exit 3 for a RuntimeFailure).
    messages.clear();
    throw error;
  }
  const { result, summary, files } = outcome;
  const last = result.points[result.points.length - 1]!;
  const where = (file: string) => shownPath(io.cwd, file);
  messages.message(
    `${summary.recorded} of ${summary.steps} steps, lr ${fmt(result.from)} -> ${fmt(last.lr)}${result.diverged ? ' (loss diverged)' : ''}\n` +
      `${summary.usable ? 'suggested' : 'unusable'} lr bounds: min ${fmt(summary.suggested.min)}, max ${fmt(summary.suggested.max)} ` +
      `(steepest descent at ${fmt(summary.steepest)}, lowest loss at ${fmt(summary.minimumLoss)})\n` +
      `wrote ${files.map(where).join(', ')}`,
  );
  if (result.problem !== null) {
    // The files stay: the curve shows what went wrong. `mono run --lr-find` refuses them.
    const unusable = `the sweep is unusable: ${result.problem}; its bounds are no suggestion (try more --steps, another --from or --to, or --init-from a trained run)`;
    warnings.push(unusable);
    io.stderr.write(`mono lr-find: warning: ${unusable}\n`);
  }
  if (values.json) io.stdout.write(JSON.stringify({ ...summary, dir: where(dir), files: files.map(where), warnings }, null, 2) + '\n');
  return EXIT_OK;
}

const fmt = (lr: number) => lr.toPrecision(3);

