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
