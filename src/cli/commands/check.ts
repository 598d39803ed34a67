/** `mono check PLAN...`: diagnostics only. */
import { hasErrors, type Diagnostic } from '../../diagnostics/diagnostic.js';
import { compilePlan } from '../../compile.js';
import { expectPositionals, parseCommandArgs, parseSetOverrides } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, type Command, type CommandIO } from '../command.js';
import { readInputFile, reportDiagnostics, sourcesWithOverrides } from '../io.js';
import { withMemoryWarnings } from '../memory.js';

const options = {
  set: { type: 'string', multiple: true },
} as const;

export const checkCommand: Command = {
  name: 'check',
  summary: 'check plans and print their diagnostics, nothing else',
  help: `Usage: mono check PLAN... [--set NAME=VALUE]...

Parses, resolves, type- and shape-checks every PLAN and prints all diagnostics on
stderr (file:line:col: error: message, a caret excerpt, a hint). Prints nothing when
every plan is clean. Warns about each phase whose training step would not fit in memory
(the 3.6 GiB of tensors the wasm backend's 4 GiB heap holds, or this machine's memory
when less), with the largest batch that would; mono run refuses such a phase.

Options:
  --set NAME=VALUE   override a plan param in every PLAN; VALUE is a mono expression (repeatable)
  -h, --help         show this help

Exit codes: 0 no errors (warnings allowed), 1 some plan has errors, 2 usage error.

Examples:
  mono check plans/*.mono
  mono check plans/monolithnet.mono --set depth=2
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, options);
    const files = expectPositionals(positionals, 'PLAN (one or more .mono files)', { max: Number.POSITIVE_INFINITY });
    const set = parseSetOverrides(values.set);
    const sources: Record<string, string> = {};
    const diagnostics: Diagnostic[] = [];
    for (const file of files) sources[file] = await readInputFile(file, io);
    for (const file of files) diagnostics.push(...withMemoryWarnings(compilePlan(sources[file]!, file, { set }), file));
    reportDiagnostics(diagnostics, sourcesWithOverrides(sources, set), io);
    return hasErrors(diagnostics) ? EXIT_PLAN_ERRORS : EXIT_OK;
  },
};
