/**
 * The base of every runtime failure that is not the plan's fault nor the user's
 * arguments: a NaN loss, an unreadable checkpoint, a missing or malformed data file,
 * an unavailable backend. Its message is complete and meant for the user: the CLI
 * (src/cli/main.ts) prints it on one line and exits 3 (EXIT_RUNTIME), in one place
 * for every command. Anything else that escapes a command is a bug (stack trace).
 */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
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

/** SIGINT or SIGTERM asked the run to stop; it stops at the next step, keeping the last checkpoint. */
export class RunInterrupted extends RuntimeFailure {
  override name = 'RunInterrupted';
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
  }
}
