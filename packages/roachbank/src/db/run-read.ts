import type pg from 'pg';
import { runSingleStatement, type TransactionCallback } from '../txn/run-transaction.js';
import { describedFailure } from './pool-target.js';
import { waitBounds } from './wait-bounds.js';

/**
 * Runs work that only reads (server detection, the schema check, a status
 * query) through the retry core: a lost connection is retried, never
 * ambiguous, within roachbank's retry budget (`waitBounds.retryBudgetMs`); a
 * database it cannot reach is DATABASE_UNAVAILABLE (`describedFailure`).
 *
 * @example
 * const server = await runRead(pool, (client) => detectServer(client));
 */
export async function runRead<T>(pool: pg.Pool, fn: TransactionCallback<T>): Promise<T> {
  try {
    return await runSingleStatement(pool, fn, { readOnly: true, retryBudgetMs: waitBounds.retryBudgetMs });
  } catch (error) {
    throw describedFailure(pool, error);
  }
}
