import { RuntimeFailure } from '../errors.js';

/**
 * A data set that is not on this machine. The message tells the user where to put
 * the files or how to get them; the runtime prints it and exits with code 3.
 */
export class DataUnavailableError extends RuntimeFailure {
  constructor(message: string) {
    super(message);
    this.name = 'DataUnavailableError';
  }
}

/**
 * A data file that exists but is not in the expected format. `problem` says what is
 * wrong and what was expected; the message starts with the file.
 */
export class DataFormatError extends RuntimeFailure {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataFormatError';
  }
}

/**
 * Data that was read fine but does not fit the plan: labels beyond the network's
 * classes, examples of another shape than the network input, a hold-out that leaves
 * no training examples. Found before the first training step.
 */
export class DataMismatchError extends RuntimeFailure {
  constructor(origin: string, problem: string) {
    super(`${origin}: ${problem}`);
    this.name = 'DataMismatchError';
  }
}
