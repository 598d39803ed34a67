/**
 * The `mono` command line: dispatches to the commands of ./commands/index.ts and
 * maps their results and errors to exit codes (../command.ts). bin/mono.js calls
 * runCli() from the built dist/; `npx tsx src/cli/main.ts ...` runs it from source.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { didYouMean } from '../diagnostics/suggest.js';
import { describeFailure } from '../runtime/index.js';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError, type Command, type CommandIO } from './command.js';
import { commands } from './commands/index.js';

/** src/cli/main.ts and dist/cli/main.js both sit two levels below the package root. */
function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

function globalHelp(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const list = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
  return `mono: a declarative language and toolchain for training plans of deep residual networks

Usage: mono <command> [options]

Commands:
${list}

Options:
  -h, --help     show this help; 'mono <command> --help' shows a command's options
  -V, --version  print the version

Exit codes: 0 ok, 1 the plan has errors, 2 usage error, 3 runtime failure.
`;
}

/** `--help` or `-h` anywhere before a `--` asks for the command's help. */
const asksForHelp = (args: readonly string[]) => {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
};

function usageFailure(io: CommandIO, prefix: string, message: string, helpCommand: string): number {
  io.stderr.write(`${prefix}: ${message}\nRun '${helpCommand}' for usage.\n`);
  return EXIT_USAGE;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(globalHelp());
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    const command = topic === undefined ? undefined : findCommand(topic);
    if (topic !== undefined && command === undefined) return unknownCommand(io, topic);
    io.stdout.write(command ? command.help : globalHelp());
    return EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (first.startsWith('-')) return usageFailure(io, 'mono', `unknown option '${first}'`, 'mono --help');

  const command = findCommand(first);
  if (command === undefined) return unknownCommand(io, first);
  if (asksForHelp(rest)) {
    io.stdout.write(command.help);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError)
      return usageFailure(io, `mono ${command.name}`, error.message, `mono ${command.name} --help`);
    // The one place where runtime failures become messages and exit codes (3; 130/143 for an interrupted run).
    const failure = describeFailure(error);
    if (failure !== undefined) {
      io.stderr.write(`mono ${command.name}: ${failure.message}\n${failure.hint !== undefined ? `  ${failure.hint}\n` : ''}`);
      return failure.exitCode;
    }
    // Anything else is a bug or an environment failure: say so, with the stack for a report.
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(`mono ${command.name}: unexpected failure: ${detail}\n`);
    return EXIT_RUNTIME;
  }
}

function findCommand(name: string): Command | undefined {
  return commands.find((command) => command.name === name);
}

function unknownCommand(io: CommandIO, name: string): number {
  const suggestion = didYouMean(name, commands.map((command) => command.name));
  return usageFailure(io, 'mono', `unknown command '${name}'${suggestion ? `; ${suggestion}` : ''}`, 'mono --help');
}

/** The process entry: real streams, exit code through process.exitCode (so pending output is flushed). */
export async function runCli(): Promise<void> {
  // `mono compile --emit ir | head` closes the pipe early: that is not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
  });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  // Only this file run directly: bundled into another program (scripts/gpu-check.sh --pack),
  // import.meta.url is that program's, which would otherwise start the CLI on its arguments.
  if (script === undefined || !/(^|[\\/])main\.[jt]s$/.test(script)) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await runCli();
