/** `mono compile PLAN`: check a plan and print its dry-run summary, the summary as JSON, or the IR. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasErrors } from '../../diagnostics/diagnostic.js';
import { compilePlan } from '../../compile.js';
import { renderSummary, summarizeIR } from '../../summary/index.js';
import { expectPositionals, parseCommandArgs, parseSetOverrides } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type Command, type CommandIO } from '../command.js';
import { readInputFile, reportDiagnostics, sourcesWithOverrides } from '../io.js';
import { BACKEND_CHOICES } from '../../runtime/index.js';
import { readBenchCache } from '../../runtime/index.js';
import { defaultMemoryLimit, givenMemoryLimit, parseMemorySize, withMemoryWarnings } from '../memory.js';
import { timeEstimateJson, timeEstimateLines } from '../time-estimate.js';

const EMIT_TARGETS = ['ir'] as const;

const options = {
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  emit: { type: 'string' },
  set: { type: 'string', multiple: true },
  memory: { type: 'string' },
  backend: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

export const compileCommand: Command = {
  name: 'compile',
  summary: 'check a plan and print its dry-run summary (shapes, params, FLOPs, memory, phases) or its IR',
  help: `Usage: mono compile PLAN [--dry-run] [--json] [--emit ir] [--memory SIZE] [--backend NAME] [--set NAME=VALUE]... [-o FILE]

Checks PLAN (all errors at once, as file:line:col: error: message) and lowers it to
the execution graph. Never allocates weights: a 437M-parameter plan takes well under a second.
Warns about each phase whose training step would not fit in memory (the 3.6 GiB of
tensors the wasm backend's 4 GiB heap holds, or this machine's memory when less); mono
run refuses such a phase.

Options:
  --dry-run          print the readable summary (the default without --emit): output shape,
                     trainable parameters, FLOPs and activation memory per section and per
                     partition (proxy heads apart), the phase timeline, and per phase the
                     estimated peak memory of a training step, whether it fits, and the
                     largest batch that does; then the estimated time per step, per epoch
                     and for the whole run
  --json             print the summary as JSON (params.total, params.byPartition, params.heads,
                     flopsPerExample, activationBytes, sections, partitions, phases, memory, ...)
  --emit ir          print the IR (execution graph) as JSON instead of the summary
  --memory SIZE      hold the phases' memory against SIZE (24GiB, 512MiB, 8GB) instead of the
                     wasm backend's: the summary says per phase whether it fits and the
                     largest batch that does
  --backend NAME     estimate the time on NAME's throughput as mono doctor --bench measured it
                     (default: the backend doctor chose when it last measured; without any
                     measurement, mono's default for wasm, which the summary says it is)
  --set NAME=VALUE   override a plan param; VALUE is a mono expression (repeatable)
  -o, --output FILE  write the output to FILE instead of stdout
  -h, --help         show this help

Exit codes: 0 ok, 1 the plan has errors, 2 usage error, 3 the output could not be written.

Examples:
  mono compile plans/monolithnet.mono
  mono compile plans/monolithnet.mono --set width=1 --set depth=1 --json
  mono compile plans/quickstart.mono --emit ir -o quickstart.ir.json
  mono compile plans/monolithnet.mono --memory 24GiB
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, options);
    const [planPath] = expectPositionals(positionals, 'PLAN (the .mono file to compile)');
    if (values.emit !== undefined && !(EMIT_TARGETS as readonly string[]).includes(values.emit))
      throw new UsageError(`unknown --emit target '${values.emit}' (expected: ${EMIT_TARGETS.join(', ')})`);
    if (values.emit !== undefined && values['dry-run'])
      throw new UsageError('--emit and --dry-run exclude each other: --emit prints the IR, --dry-run the summary');
    if (values.emit !== undefined && values.json)
      throw new UsageError('--json applies to the dry-run summary; --emit ir already prints JSON');
    if (values.emit !== undefined && values.memory !== undefined)
      throw new UsageError('--memory applies to the dry-run summary; --emit ir prints the IR');
    if (values.emit !== undefined && values.backend !== undefined)
      throw new UsageError('--backend applies to the dry-run summary; --emit ir prints the IR');
    if (values.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(values.backend))
      throw new UsageError(`unknown backend '${values.backend}' (choose one of: ${BACKEND_CHOICES.join(', ')})`);
    const memoryLimit = values.memory !== undefined ? givenMemoryLimit(parseMemorySize(values.memory), values.memory) : defaultMemoryLimit();
    const set = parseSetOverrides(values.set);

    const text = await readInputFile(planPath!, io);
    const result = compilePlan(text, planPath!, { set });
    reportDiagnostics(withMemoryWarnings(result, planPath!), sourcesWithOverrides({ [planPath!]: text }, set), io);
    if (hasErrors(result.diagnostics)) return EXIT_PLAN_ERRORS;
    if (result.ir === undefined) {
      io.stderr.write(`mono compile: internal error: no IR and no error for '${planPath}'\n`);
      return EXIT_RUNTIME;
    }

    let output: string;
    if (values.emit === 'ir') output = JSON.stringify(result.ir, null, 2) + '\n';
    else {
      const summary = summarizeIR(result.ir, { memoryLimit });
      // The throughput mono doctor --bench measured (a small JSON file; no TensorFlow.js).
      const bench = readBenchCache(io.env);
      output = values.json
        ? JSON.stringify({ ...summary, time: timeEstimateJson(result.ir, bench, values.backend) }, null, 2) + '\n'
        : renderSummary(summary) + '\n' + timeEstimateLines(result.ir, bench, values.backend).join('\n') + '\n';
    }

    if (values.output === undefined) {
      io.stdout.write(output);
      return EXIT_OK;
    }
    try {
      await writeFile(resolve(io.cwd, values.output), output);
    } catch (error) {
      io.stderr.write(`mono compile: cannot write '${values.output}': ${(error as Error).message}\n`);
      return EXIT_RUNTIME;
    }
    return EXIT_OK;
  },
};
