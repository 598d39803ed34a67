/** The work of `mono lr-find PLAN`: the LR range test for one phase of a plan; suggests lr bounds. */
import path from 'node:path';
import { compilePlan } from '../../compile.js';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import { BACKEND_CHOICES, selectBackend } from '../../runtime/backend.js';
import { readCheckpoint } from '../../runtime/checkpoint.js';
import { dataCacheRoot } from '../../runtime/data/cache.js';
import { loadDataFor } from '../../runtime/data/dataset.js';
import { Network } from '../../runtime/graph.js';
import { assertPhasesFit, webgpuMemoryOf } from '../../runtime/memory-check.js';
import { LR_FIND_FROM, LR_FIND_TO, lrFindSummary, lrRangeTest, writeLrFindFiles } from '../../runtime/lr-find.js';
import { ProgressReporter } from '../../runtime/progress.js';
import { Rng } from '../../runtime/rng.js';
import { defaultRunDir } from '../../runtime/run-folder.js';
import { runRngs } from '../../runtime/trainer.js';
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
  const phase = values.phase === undefined ? ir.phases[0] : ir.phases.find((p) => p.name === values.phase);
  if (!phase) {
    throw new UsageError(
      values.phase === undefined ? `${planArg} has no phase to test` : `no phase '${values.phase}' in ${planArg} (phases: ${ir.phases.map((p) => p.name).join(', ')})`,
    );
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
  let network: Network | undefined;
  try {
    // The memory check first: it allocates nothing, the data set may be large.
    const backend = await selectBackend(values.backend !== undefined ? { force: values.backend } : {});
    assertPhasesFit(ir, backend.name, [phase], undefined, webgpuMemoryOf(backend.adapter));
    const data = await loadDataFor(ir, { baseDir: path.dirname(path.resolve(io.cwd, planArg)), cacheDir: dataCacheRoot(io.env) });
    const seed = seedArg ?? ir.data.seed;
    network = new Network(ir, runRngs(seed).init);
    if (values['init-from'] !== undefined) {
      const { loaded } = network.setWeights((await readCheckpoint(path.resolve(io.cwd, values['init-from']))).weights);
      messages.message(`mono lr-find: --init-from loaded ${loaded.length} parameters`);
    }
    const dir = values.out !== undefined ? path.resolve(io.cwd, values.out) : defaultRunDir(`${ir.plan}-lr-find`, io.cwd);
    messages.message(`mono lr-find: phase ${phase.name} of ${ir.plan} on ${backend.name}, seed ${seed}`);
    // Same sweep stream as `mono run` uses for this phase (stream 4, forked by phase index).
    const rng = new Rng(seed).fork(4).fork(ir.phases.indexOf(phase));
    const result = await lrRangeTest(network, data, phase, rng, {
      ...(steps !== undefined ? { steps } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      onStep: (p) => messages.batch({ phase: `lr-find ${phase.name}`, epoch: 1, epochs: 1, step: p.step, steps: p.steps, loss: p.smoothed, examplesPerSecond: p.examplesPerSecond }),
    });
    const files = await writeLrFindFiles(dir, result);
    const summary = lrFindSummary(result);
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
  } catch (error) {
    // The failure itself is reported by src/cli/main.ts (exit 3 for a RuntimeFailure).
    messages.clear();
    throw error;
  } finally {
    network?.dispose();
  }
}

const fmt = (lr: number) => lr.toPrecision(3);

