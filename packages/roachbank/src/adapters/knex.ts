import type { Knex } from 'knex';
import type pg from 'pg';
import type { SessionSource } from '../txn/attempt-session.js';
import { sessionOnConnection } from '../txn/pg-session.js';
import { type RunTransactionOptions, runTransactionOn } from '../txn/run-transaction.js';

/**
 * `runTransaction` for Knex (on its `pg` client): the callback gets a
 * `Knex.Transaction` (`trx`), so existing Knex query code runs in it unchanged.
 *
 * Knex's own `knex.transaction(fn)` runs `fn` once: a 40001 reaches the caller,
 * and a statement error the callback caught still ends in COMMIT, which
 * PostgreSQL answers with ROLLBACK while Knex reports success.
 *
 * The session takes the raw connection from Knex's pool and opens Knex's
 * transaction on it, so the core reads the transaction's state from the driver
 * and sends its savepoints itself; a connection that broke is marked disposed,
 * which Knex's pool destroys instead of handing out again.
 *
 * @example
 * import { runKnexTransaction } from 'roachbank/knex';
 * await runKnexTransaction(knex, async (trx) => {
 *   const { balance } = await trx('accounts').where({ id }).first();
 *   await trx('accounts').where({ id }).update({ balance: balance - 100 });
 * });
 */
export function runKnexTransaction<T>(
  knex: Knex,
  fn: (trx: Knex.Transaction, attempt: number) => Promise<T>,
  options?: RunTransactionOptions,
): Promise<T> {
  return runTransactionOn(knexSessionSource(knex), fn, options);
}

/** A Knex pg connection: a node-postgres client that Knex marks when it fails. */
type KnexConnection = pg.PoolClient & { __knex__disposed?: unknown };

/** Sessions on a Knex instance: one raw connection each, with Knex's transaction on it. */
export function knexSessionSource(knex: Knex): SessionSource<Knex.Transaction> {
  return {
    identity: knex,
    async open() {
      const raw = (await knex.client.acquireConnection()) as KnexConnection;
      let trx: Knex.Transaction | undefined;
      return sessionOnConnection(raw, {
        get handle() {
          if (!trx) throw new Error('the Knex transaction is not open yet');
          return trx;
        },
        async begin(mode, savepoint) {
          // Knex sends BEGIN TRANSACTION ISOLATION LEVEL … [READ ONLY] on the connection it is given.
          trx = await knex.transaction({ connection: raw, isolationLevel: mode.isolation, readOnly: mode.readOnly });
          if (savepoint) await raw.query(`SAVEPOINT ${savepoint}`);
        },
        async commit() {
          if (!trx) throw new Error('no Knex transaction to commit');
          await trx.commit();
          await trx.executionPromise; // where Knex puts COMMIT's error
          return 'committed';
        },
        async rollback() {
          if (!trx || trx.isCompleted()) {
            await raw.query('ROLLBACK');
            return;
          }
          await trx.rollback();
          await trx.executionPromise;
        },
        giveBack: () => knex.client.releaseConnection(raw),
        destroy(reason) {
          raw.__knex__disposed = reason; // Knex's pool validates on acquire and destroys it
          raw.end().catch(() => {});
          void knex.client.releaseConnection(raw);
        },
      });
    },
  };
}
