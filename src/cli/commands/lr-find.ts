/** `mono lr-find PLAN`: the LR range test for one phase of a plan; suggests lr bounds. */
import path from 'node:path';
import { compilePlan } from '../../compile.js';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import { BackendError, BACKEND_CHOICES, selectBackend } from '../../runtime/backend.js';
import { readCheckpoint } from '../../runtime/checkpoint.js';
import { DataUnavailableError, loadData } from '../../runtime/data/dataset.js';
import { RuntimeFailure } from '../../runtime/errors.js';
import { Network } from '../../runtime/graph.js';
import { LR_FIND_FROM, LR_FIND_MAX_PASSES, LR_FIND_STEPS, LR_FIND_TO, lrFindSummary, lrRangeTest, writeLrFindFiles } from '../../runtime/lr-find.js';
import { ProgressReporter } from '../../runtime/progress.js';
import { Rng } from '../../runtime/rng.js';
import { defaultRunDir } from '../../runtime/run-folder.js';
import { runRngs } from '../../runtime/trainer.js';
import { expectPositionals, optionalInteger, optionalNumber, parseCommandArgs, parseSetOverrides } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type Command, type CommandIO } from '../command.js';
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

export const lrFindCommand: Command = {
  name: 'lr-find',
  summary: 'LR range test for one phase: loss against an exponentially growing lr, suggested bounds',
  help: `Usage: mono lr-find PLAN [--phase NAME] [--out DIR] [--json] [--steps N] [--from LR] [--to LR]
                    [--set NAME=VALUE]... [--backend NAME] [--seed N] [--init-from DIR]

Trains the graph of one phase (the first by default) from fresh weights (the plan's seed)
while the lr grows exponentially, step by step, from --from to --to, and stops when the
smoothed loss diverges (4x its minimum) or the steps are done. The phase's optimizer, lr
multipliers, base momentum and weight decay are used; partitions frozen in that phase run
forward only. Suggests lr bounds: max = a tenth of the lr at the lowest smoothed loss,
min = where the loss starts to fall (see docs/optimizers.md).

Writes DIR/lr-find.csv (lr, loss, smoothed_loss per step), DIR/lr-find.svg (the curve and
the bounds) and DIR/lr-find.json (the summary printed by --json). Copy the bounds into
'lr mi(max: .., min: ..)', or let the plan say 'lr mi(bounds: lr_find)': 'mono run' then
runs this same test at the start of that phase, on the weights trained so far, and uses
its suggestion (logged in the run folder: lr-bounds.json, lr-find-<phase>.csv/.svg/.json).

Options:
  --phase NAME       the phase to test (names as in 'mono compile': p1, p2, finetune, ...)
  --out DIR          output folder (default runs/<plan>-lr-find-<yyyymmdd-hhmmss>/)
  --json             print the summary as JSON: {"suggested": {"min", "max"}, "steepest", ...}
  --steps N          planned steps (default ${LR_FIND_STEPS}, at most ${LR_FIND_MAX_PASSES} passes over the training data)
  --from LR          first lr (default ${LR_FIND_FROM})
  --to LR            lr of the last planned step (default ${LR_FIND_TO})
  --set NAME=VALUE   override a plan param; VALUE is a mono expression (repeatable)
  --backend NAME     force a backend: ${BACKEND_CHOICES.join(', ')}
  --seed N           seed of initialisation, shuffling and dropout (default: the plan's data seed)
  --init-from DIR    start from the weights of a run's checkpoint: for a later phase, a run
                     that trained the partitions before it (without it they are random,
                     and a warning says so)
  -h, --help         show this help

Exit codes: 0 done, 1 the plan has errors, 2 usage error, 3 runtime failure (missing data
set, backend, no finite loss, I/O error).

Examples:
  mono lr-find plans/mi-lr.mono --out runs/mi-lr-find
  mono lr-find plans/mi-lr.mono --phase p2 --init-from runs/mi-lr --json --steps 300
`,
  async run(args: string[], io: CommandIO): Promise<number> {
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
      const backend = await selectBackend(values.backend !== undefined ? { force: values.backend } : {});
      const data = await loadData(ir.data, { baseDir: path.dirname(path.resolve(io.cwd, planArg)) });
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
      const result = lrRangeTest(network, data, phase, rng, {
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
          `suggested lr bounds: min ${fmt(summary.suggested.min)}, max ${fmt(summary.suggested.max)} ` +
          `(steepest descent at ${fmt(summary.steepest)}, lowest loss at ${fmt(summary.minimumLoss)})\n` +
          `wrote ${files.map(where).join(', ')}`,
      );
      if (values.json) io.stdout.write(JSON.stringify({ ...summary, dir: where(dir), files: files.map(where), warnings }, null, 2) + '\n');
      return EXIT_OK;
    } catch (error) {
      messages.clear();
      if (error instanceof BackendError || error instanceof DataUnavailableError || error instanceof RuntimeFailure) {
        io.stderr.write(`mono lr-find: ${error.message}\n`);
        return EXIT_RUNTIME;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
        io.stderr.write(`mono lr-find: I/O error: ${(error as Error).message}\n`);
        return EXIT_RUNTIME;
      }
      throw error;
    } finally {
      network?.dispose();
    }
  },
};

const fmt = (lr: number) => lr.toPrecision(3);

