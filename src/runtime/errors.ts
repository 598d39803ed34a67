/**
 * A failure while running a plan that is not the plan's fault nor the user's
 * arguments: a NaN loss, an unreadable checkpoint, an I/O error. `mono run` maps it
 * to exit 3 (EXIT_RUNTIME) and prints the message.
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
