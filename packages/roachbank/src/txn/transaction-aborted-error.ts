import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * The callback returned normally, but the transaction had already been aborted
 * by a statement error that the callback caught itself. PostgreSQL would have
 * answered COMMIT with ROLLBACK and no error; roachbank reports it instead.
 * `cause` is the statement's error: when it is retryable (40001), the retry
 * core re-runs the callback as for any serialization failure.
 *
 * @example
 * await runTransaction(pool, async (c) => {
 *   await c.query('INSERT INTO t VALUES (1)').catch(() => {}) // swallowed!
 * }) // rejects with TransactionAbortedError, cause: the duplicate-key error
 */
export class TransactionAbortedError extends RoachbankError {
  constructor(cause: unknown) {
    super(
      'TRANSACTION_ABORTED',
      cause === undefined
        ? 'the transaction was aborted by a statement error that the callback caught'
        : `the transaction was aborted by an error the callback caught: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
