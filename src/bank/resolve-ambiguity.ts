import { setTimeout as sleep } from 'node:timers/promises';
import { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import { backoffDelay } from '../txn/backoff.js';
import { classifyError } from '../txn/classify-error.js';
import { RetriesExhaustedError } from '../txn/retries-exhausted-error.js';

/**
 * Runs an idempotent bank operation and turns an ambiguous commit into a
 * definite answer: the operation is submitted again with the same ids, which
 * either finds what the first try wrote (a replay) or does it now. Only while
 * the database stays unreachable does the caller get the AmbiguousCommitError.
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
      const unreachable = error instanceof RetriesExhaustedError || classifyError(error) === 'connection';
      if (error instanceof AmbiguousCommitError) {
        options.onAmbiguous?.(error);
        ambiguity ??= error;
      }
      else if (!(ambiguity && unreachable)) throw error;
      if (attempt >= attempts) throw ambiguity;
      await sleep(backoffDelay(attempt, 50, 2000));
    }
  }
}
