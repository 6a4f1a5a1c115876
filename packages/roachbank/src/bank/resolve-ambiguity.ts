import { setTimeout as sleep } from 'node:timers/promises';
import { errorCatalogue } from '../errors/error-catalogue.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import { backoffDelay } from '../txn/backoff.js';

/**
 * Runs an idempotent bank operation and turns an ambiguous commit into a
 * definite answer where the journal gives one: the operation is submitted again
 * with the same ids, which either finds what the first try wrote (a replay) or
 * does it now. While the database stays unreachable, the caller gets the
 * AmbiguousCommitError.
 *
 * After an ambiguous try, only the journal decides (DESIGN §8):
 * - a resubmission that fails without a bank answer (connection, statement
 *   timeout, retries exhausted) says nothing about the first try: try again;
 * - a refusal of the resubmission (INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, …) is
 *   not an answer either: the first try may still be running on the server (a
 *   client-side `query_timeout` does not stop it) and commit after the refusal,
 *   which the bank checked against the journal only up to then. The caller gets
 *   AMBIGUOUS_COMMIT naming the refusal (`refusedAfterAmbiguity`): repeating the
 *   id later learns the truth. Never a refusal of something that may happen;
 * - a replay, IDEMPOTENCY_CONFLICT or the movement done now are the journal's
 *   word, and final.
 *
 * `operation` hears the ambiguity met so far, so a batch can apply the same rule
 * to each of its items.
 *
 * @example
 * const outcome = await resolvingAmbiguity(() => submitTransfer(movement));
 */
export async function resolvingAmbiguity<T>(
  operation: (ambiguity: AmbiguousCommitError | undefined) => Promise<T>,
  options: { attempts?: number; onAmbiguous?: (error: AmbiguousCommitError) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 6;
  let ambiguity: AmbiguousCommitError | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(ambiguity);
    } catch (error) {
      if (error instanceof AmbiguousCommitError) {
        options.onAmbiguous?.(error);
        ambiguity ??= error;
      } else if (!ambiguity) {
        throw error;
      } else if (isRefusal(error)) {
        throw refusedAfterAmbiguity(ambiguity, error);
      } else if (isDefiniteAnswer(error)) {
        throw error;
      }
      if (attempt >= attempts) throw ambiguity;
      await sleep(backoffDelay(attempt, 50, 2000));
    }
  }
}

/** The codes that refuse a request for the state of its accounts now, which a late commit can change. */
const refusalCodes: ReadonlySet<string> = new Set([
  'INSUFFICIENT_FUNDS',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_NOT_EMPTY',
  'BALANCE_LIMIT',
  'HOLD_NOT_PENDING',
  'HOLD_EXPIRED',
  'REVERSAL_EXCEEDS_ORIGINAL',
  'GROUP_FAILED',
]);

/** A bank refusal of the request for the state of the bank (INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, HOLD_NOT_PENDING, …). */
export function isRefusal(error: unknown): error is RoachbankError {
  return error instanceof RoachbankError && refusalCodes.has(error.code);
}

/**
 * AMBIGUOUS_COMMIT for a request refused after an attempt whose outcome is unknown:
 * the refusal is true of the resubmission, but the first attempt may still commit.
 */
export function refusedAfterAmbiguity(ambiguity: AmbiguousCommitError, refusal: RoachbankError): RoachbankError {
  return new RoachbankError(
    'AMBIGUOUS_COMMIT',
    `the outcome is unknown: an attempt was cut (${ambiguity.message}) and may still commit; ` +
      `the resubmission was refused (${refusal.code}: ${refusal.message}). Repeat the same id later to learn which`,
    { cause: ambiguity },
  );
}

/**
 * An error that tells what became of the request (INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, …),
 * as opposed to the database failing to answer (or answering that it cannot tell).
 */
export function isDefiniteAnswer(error: unknown): boolean {
  return error instanceof RoachbankError && errorCatalogue[error.code].provesNothingHappened;
}
