import { type Kysely, sql, type Transaction } from 'kysely';
import { type AttemptSession, coreSteps, type SessionSource } from '../txn/attempt-session.js';
import { type RunTransactionOptions, runTransactionOn } from '../txn/run-transaction.js';

/**
 * `runTransaction` for Kysely: the callback gets a `Transaction<DB>` (`trx`), so
 * existing Kysely query code runs in it unchanged; the retry core decides what a
 * failure means and when to run the callback again.
 *
 * Kysely's own `db.transaction().execute(fn)` runs `fn` once: a 40001 reaches the
 * caller, and a statement error the callback caught still ends in COMMIT, which
 * PostgreSQL answers with ROLLBACK while Kysely reports success.
 *
 * Kysely keeps its connection private, so the core cannot read the transaction's
 * state: before COMMIT it asks the server with one `SELECT 1` (under CockroachDB's
 * savepoint protocol, RELEASE SAVEPOINT asks instead). A connection that broke goes
 * back through Kysely to pg-pool, which drops a client whose socket failed.
 *
 * Kysely never listens for errors on the pg clients it checks out, and node-postgres
 * emits 'error' on a client whose socket fails mid-transaction: without a listener
 * that ends the process. Give the pool one (the failure still reaches the query, and
 * the retry core): `pool.on('connect', (client) => client.on('error', () => {}))`.
 *
 * @example
 * import { runKyselyTransaction } from 'roachbank/kysely';
 * const balance = await runKyselyTransaction(db, async (trx) => {
 *   const row = await trx.selectFrom('accounts').select('balance').where('id', '=', id).executeTakeFirstOrThrow();
 *   await trx.updateTable('accounts').set({ balance: row.balance - 100n }).where('id', '=', id).execute();
 *   return row.balance;
 * });
 */
export function runKyselyTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>, attempt: number) => Promise<T>,
  options?: RunTransactionOptions,
): Promise<T> {
  return runTransactionOn(kyselySessionSource(db), fn, options);
}

/** Sessions on a Kysely instance: each is one of Kysely's controlled transactions. */
export function kyselySessionSource<DB>(db: Kysely<DB>): SessionSource<Transaction<DB>> {
  return {
    identity: db,
    async open(mode) {
      const builder = db.startTransaction().setIsolationLevel(mode.isolation);
      const trx = await (mode.readOnly ? builder.setAccessMode('read only') : builder).execute();
      const query = async (text: string) => (await sql.raw<Record<string, unknown>>(text).execute(trx)).rows;
      const execute = async (text: string) => {
        await sql.raw(text).execute(trx);
      };
      const end = () => (trx.isCommitted || trx.isRolledBack ? Promise.resolve() : trx.rollback().execute());
      const session: AttemptSession<Transaction<DB>> = {
        handle: trx,
        async begin(_mode, savepoint) {
          if (savepoint) await execute(`SAVEPOINT ${savepoint}`);
        },
        ...coreSteps({ query, execute }),
        async commit() {
          await trx.commit().execute();
          return 'committed';
        },
        rollback: () => trx.rollback().execute(),
        state: () => undefined,
        brokenBy: undefined,
        lastQueryError: undefined,
        startAttempt() {},
        release: end, // Kysely gave the connection back when it committed or rolled back
        discard(_reason) {
          end().catch(() => {});
        },
      };
      return session;
    },
  };
}
