import type pg from 'pg';
import { runSingleStatement, type TransactionCallback } from '../txn/run-transaction.js';
import { waitBounds } from './wait-bounds.js';

/**
 * Runs work that only reads (server detection, the schema check, a status
 * query) through the retry core: a lost connection is retried, never
 * ambiguous, within roachbank's retry budget (`waitBounds.retryBudgetMs`).
 *
 * @example
 * const server = await runRead(pool, (client) => detectServer(client));
 */
export function runRead<T>(pool: pg.Pool, fn: TransactionCallback<T>): Promise<T> {
  return runSingleStatement(pool, fn, { readOnly: true, retryBudgetMs: waitBounds.retryBudgetMs });
}
