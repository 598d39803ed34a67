/** Exit code of a runtime failure (src/cli/command.ts has the same value as EXIT_RUNTIME). */
export const RUNTIME_FAILURE_EXIT = 3;

/**
 * The base of every runtime failure that is not the plan's fault nor the user's
 * arguments: a NaN loss, an unreadable checkpoint, a missing or malformed data file,
 * an unavailable backend, a layer an export format cannot express. Its message is
 * complete and meant for the user; `hint`, when there is one, says what to do next.
 * The CLI (src/cli/main.ts) prints `mono <cmd>: <message>` and the hint, indented, on
 * the next line, and exits with `exitCode` (3; an interrupted run 130 or 143), in one
 * place for every command. Anything else that escapes a command is a bug (stack trace).
 */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
  /** What to do about it, one line (printed under the message), or undefined. */
  hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.hint = options.hint;
  }

  /** The process exit code for this failure. */
  get exitCode(): number {
    return RUNTIME_FAILURE_EXIT;
  }
}

/** The loss became NaN or infinite; names where, so the run can be inspected or resumed. */
export class NonFiniteLossError extends RuntimeFailure {
  override name = 'NonFiniteLossError';
  constructor(
    readonly phase: string,
    /** 1-based epoch within the phase. */
    readonly epoch: number,
    /** 1-based step within the epoch. */
    readonly step: number,
    readonly loss: number,
  ) {
    super(`loss became ${loss} in phase ${phase}, epoch ${epoch}, step ${step}`);
  }
}

/**
 * After an epoch, the hold-out loss, a weight or a BatchNorm statistic of the trained
 * partitions is NaN or infinite although the training loss was finite (a learning
 * rate far too high with BatchNorm, for instance). The epoch is not recorded.
 */
export class NonFiniteStateError extends RuntimeFailure {
  override name = 'NonFiniteStateError';
  constructor(
    readonly phase: string,
    /** 1-based epoch within the phase. */
    readonly epoch: number,
    /** What is no longer finite: `hold-out loss`, or the kind and name of a tensor. */
    readonly what: string,
  ) {
    super(`${what} is no longer finite after phase ${phase}, epoch ${epoch} (is the learning rate too high?)`);
  }
}

/** A file of the run folder could not be written (full disk, permissions); names the file. */
export class WriteFailure extends RuntimeFailure {
  override name = 'WriteFailure';
  constructor(
    readonly file: string,
    /** The system's error code (ENOSPC, EACCES, ...). */
    readonly code: string,
    reason: string,
  ) {
    super(`cannot write ${file}: ${reason}`);
  }
}

/**
 * The error to throw for a failed write of `file`: system errors (they carry an errno
 * code) become a WriteFailure naming the file; anything else is returned unchanged.
 */
export function writeFailure(file: string, error: unknown): unknown {
  if (error instanceof RuntimeFailure) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error;
  const reason = code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : code === 'EDQUOT' ? 'disk quota exceeded (EDQUOT)' : (error as Error).message;
  return new WriteFailure(file, code, reason);
}

/** Exit codes of a process stopped by a signal, as a shell reports one killed by it (128 + signal number). */
export const EXIT_ON_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * SIGINT or SIGTERM asked the run to stop; it stops at the next step, keeping the last
 * checkpoint. The run rethrows it with a message saying how to continue; it exits 130
 * (SIGINT) or 143 (SIGTERM).
 */
export class RunInterrupted extends RuntimeFailure {
  override name = 'RunInterrupted';
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    message = `interrupted by ${signal}`,
  ) {
    super(message);
  }

  override get exitCode(): number {
    return EXIT_ON_SIGNAL[this.signal];
  }
}

/**
 * The one-line message, hint and exit code of a failure that is not a bug: a
 * RuntimeFailure, or an I/O error from the system (ENOSPC, EACCES, ...), whose message
 * names the call and the path (exit 3). Undefined for anything else.
 */
export function describeFailure(error: unknown): { message: string; hint: string | undefined; exitCode: number } | undefined {
  if (error instanceof RuntimeFailure) return { message: error.message, hint: error.hint, exitCode: error.exitCode };
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return { message: `I/O error: ${(error as Error).message}`, hint: undefined, exitCode: RUNTIME_FAILURE_EXIT };
  return undefined;
}
