import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * The transaction failed with retryable errors (serialization failures,
 * deadlocks, lost connections before COMMIT) on every one of `attempts` tries.
 * Nothing was committed. `cause` is the last error.
 *
 * @example
 * catch (e) { if (e instanceof RetriesExhaustedError) log(e.attempts, e.cause) }
 */
export class RetriesExhaustedError extends RoachbankError {
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super(
      'RETRIES_EXHAUSTED',
      `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.attempts = attempts;
  }
}
