import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * The transaction failed with retryable errors (serialization failures,
 * deadlocks, lost connections before COMMIT) on every one of `attempts` tries,
 * or kept failing until the retry budget was spent. Nothing was committed.
 * `cause` is the last error.
 *
 * @example
 * catch (e) { if (e instanceof RetriesExhaustedError) log(e.attempts, e.cause) }
 */
export class RetriesExhaustedError extends RoachbankError {
  readonly attempts: number;
  /** Set when the retry budget (`retryBudgetMs`) ran out: how long the attempts took, in ms. */
  readonly elapsedMs: number | undefined;

  constructor(attempts: number, cause: unknown, elapsedMs?: number) {
    const within = elapsedMs === undefined ? '' : ` in ${(elapsedMs / 1000).toFixed(1)} s (the retry budget)`;
    super(
      'RETRIES_EXHAUSTED',
      `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}${within}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.attempts = attempts;
    this.elapsedMs = elapsedMs;
  }
}
