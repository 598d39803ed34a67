/**
 * One CLI command. Each lives in src/cli/commands/<name>.ts and is listed in
 * src/cli/commands/index.ts; main.ts dispatches and maps results to exit codes.
 */
export const EXIT_OK = 0;
/** The plan has errors (diagnostics on stderr), or `fmt --check` found unformatted files. */
export const EXIT_PLAN_ERRORS = 1;
export const EXIT_USAGE = 2;
/** Runtime failure: missing data set, NaN loss, I/O error. */
export const EXIT_RUNTIME = 3;

export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  /** One line for `mono --help`. */
  summary: string;
  /** Full text for `mono <name> --help`: usage line, options, examples. */
  help: string;
  /** Returns the exit code. Throw UsageError for bad arguments (exit 2, message + hint to --help). */
  run(args: string[], io: CommandIO): Promise<number>;
}

export class UsageError extends Error {}
