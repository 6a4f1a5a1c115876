import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * COMMIT (or CockroachDB's RELEASE SAVEPOINT) was sent and no answer came back,
 * or the server answered 40003: the transaction may or may not have committed.
 *
 * Never retried blindly: re-running a non-idempotent transaction could apply it
 * twice. Resolve it by reading back something the transaction wrote, such as
 * the idempotent transfer id.
 *
 * @example
 * catch (e) { if (e instanceof AmbiguousCommitError) await lookUpTransfer(id) }
 */
export class AmbiguousCommitError extends RoachbankError {
  constructor(cause: unknown) {
    super('AMBIGUOUS_COMMIT', `the outcome of COMMIT is unknown: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
