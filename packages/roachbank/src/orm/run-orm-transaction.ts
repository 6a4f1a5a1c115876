import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { type RunTransactionOptions, runTransaction } from '../txn/run-transaction.js';

/** What an ORM transaction callback receives: Drizzle bound to the attempt's connection. */
export type OrmTransaction = NodePgDatabase;

/**
 * `runTransaction` for Drizzle ORM: the counterpart of `sqlalchemy_cockroachdb.run_transaction`.
 *
 * The retry core owns BEGIN/COMMIT, classification, backoff and ambiguity;
 * this adapter only wraps each attempt's connection in Drizzle, so `tx` runs
 * every query inside the core's transaction. Drizzle's `DrizzleQueryError`
 * carries the driver error as `cause`, and the core classifies through it, so
 * a 40001 raised under the ORM is retried like any other.
 *
 * Do not call `tx.transaction()` inside: the transaction is already open.
 *
 * @example
 * const account = await runOrmTransaction(pool, async (tx) => {
 *   const [row] = await tx.select().from(accounts).where(eq(accounts.id, id));
 *   await tx.update(accounts).set({ balance: row.balance - 100n }).where(eq(accounts.id, id));
 *   return row;
 * });
 */
export function runOrmTransaction<T>(
  pool: pg.Pool,
  fn: (tx: OrmTransaction, attempt: number) => Promise<T>,
  options?: RunTransactionOptions,
): Promise<T> {
  return runTransaction(pool, (client, attempt) => fn(drizzle({ client }), attempt), options);
}
