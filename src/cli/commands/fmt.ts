/** `mono fmt FILE...`: canonical source, printed, rewritten (--write) or checked (--check), like prettier. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { formatSource } from '../../syntax/printer.js';
import { expectPositionals, parseCommandArgs } from '../args.js';
import { EXIT_OK, EXIT_PLAN_ERRORS, EXIT_RUNTIME, UsageError, type Command, type CommandIO } from '../command.js';
import { plural, readInputFile, reportDiagnostics } from '../io.js';

const options = {
  write: { type: 'boolean', short: 'w' },
  check: { type: 'boolean', short: 'c' },
} as const;

export const fmtCommand: Command = {
  name: 'fmt',
  summary: 'print plans in canonical form, rewrite them (--write) or check them (--check)',
  help: `Usage: mono fmt FILE... [--write | --check]

Prints each FILE in canonical form on stdout (comments kept). A file with syntax
errors is left alone and its diagnostics go to stderr.

Options:
  -w, --write   rewrite the files that are not formatted, in place; names them on stderr
  -c, --check   print nothing but the names of the files that are not formatted (stdout)
                and exit 1 if there is any
  -h, --help    show this help

Exit codes: 0 ok (with --check: every file formatted), 1 syntax errors, or with --check
some file is not formatted, 2 usage error, 3 a file could not be written.

Examples:
  mono fmt plans/quickstart.mono
  mono fmt --write plans/*.mono
  mono fmt --check plans/*.mono
`,
  async run(args: string[], io: CommandIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(args, options);
    const files = expectPositionals(positionals, 'FILE (one or more .mono files)', { max: Number.POSITIVE_INFINITY });
    if (values.write && values.check) throw new UsageError('--write and --check exclude each other');

    const sources: Record<string, string> = {};
    for (const file of files) sources[file] = await readInputFile(file, io);
    const diagnostics: Diagnostic[] = [];
    const unformatted: string[] = [];
    let failed = false;
    for (const file of files) {
      const text = sources[file]!;
      const result = formatSource(text, file);
      diagnostics.push(...result.diagnostics);
      if (result.output === undefined) {
        failed = true;
        continue;
      }
      if (result.output === text) {
        if (!values.write && !values.check) io.stdout.write(text);
        continue;
      }
      unformatted.push(file);
      if (values.write) {
        try {
          await writeFile(resolve(io.cwd, file), result.output);
        } catch (error) {
          io.stderr.write(`mono fmt: cannot write '${file}': ${(error as Error).message}\n`);
          return EXIT_RUNTIME;
        }
        io.stderr.write(`formatted ${file}\n`);
      } else if (values.check) io.stdout.write(`${file}\n`);
      else io.stdout.write(result.output);
    }
    reportDiagnostics(diagnostics, sources, io);
    if (failed) return EXIT_PLAN_ERRORS;
    if (values.check && unformatted.length > 0) {
      io.stderr.write(`${plural(unformatted.length, 'file')} not formatted; run 'mono fmt --write' on them\n`);
      return EXIT_PLAN_ERRORS;
    }
    return EXIT_OK;
  },
};
