import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * A connection that was made and then broke during a command (the socket
 * closed, the server ended the session, no answer came in time), as opposed
 * to one that could not be made at all: DATABASE_UNAVAILABLE. The retry core wraps
 * the driver's error in it, so a message can say which of the two happened.
 *
 * @example
 * if (error.cause instanceof ConnectionLostError) console.error('lost mid-command:', error.cause.cause)
 */
export class ConnectionLostError extends RoachbankError {
  constructor(cause: unknown) {
    super(
      'DATABASE_UNAVAILABLE',
      `the connection was lost during a command: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
