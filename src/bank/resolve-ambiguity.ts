import { setTimeout as sleep } from 'node:timers/promises';
import { RoachbankError } from '../errors/roachbank-error.js';
import { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import { backoffDelay } from '../txn/backoff.js';

/**
 * Runs an idempotent bank operation and turns an ambiguous commit into a
 * definite answer: the operation is submitted again with the same ids, which
 * either finds what the first try wrote (a replay) or does it now. Only while
 * the database stays unreachable does the caller get the AmbiguousCommitError.
 *
 * Once a commit was ambiguous, only a bank answer about the request itself
 * (INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, ...) ends the search early: a resubmission
 * that fails any other way (connection, statement timeout, retries exhausted)
 * says nothing about the first try, which may have committed.
 *
 * @example
 * const outcome = await resolvingAmbiguity(() => submitTransfer(movement));
 */
export async function resolvingAmbiguity<T>(
  operation: () => Promise<T>,
  options: { attempts?: number; onAmbiguous?: (error: AmbiguousCommitError) => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 6;
  let ambiguity: AmbiguousCommitError | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof AmbiguousCommitError) {
        options.onAmbiguous?.(error);
        ambiguity ??= error;
      } else if (!ambiguity || isDefiniteAnswer(error)) {
        throw error;
      }
      if (attempt >= attempts) throw ambiguity;
      await sleep(backoffDelay(attempt, 50, 2000));
    }
  }
}

/**
 * An error that tells what became of the request (INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, …),
 * as opposed to the database failing to answer (or answering that it cannot tell).
 */
export function isDefiniteAnswer(error: unknown): boolean {
  if (!(error instanceof RoachbankError)) return false;
  return !['AMBIGUOUS_COMMIT', 'RETRIES_EXHAUSTED', 'DATABASE_UNAVAILABLE'].includes(error.code);
}
