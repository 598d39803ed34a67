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

/** A data file that exists but is not in the expected format. */
export class DataFormatError extends RuntimeFailure {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataFormatError';
  }
}
