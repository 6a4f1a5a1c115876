import type pg from 'pg';
import type { Sequelize, Transaction } from 'sequelize';
import type { SessionSource } from '../txn/attempt-session.js';
import { sessionOnConnection } from '../txn/pg-session.js';
import { type RunTransactionOptions, runTransactionOn } from '../txn/run-transaction.js';

/**
 * `runTransaction` for Sequelize (v6, `postgres` dialect): the callback gets the
 * attempt's `Transaction`; pass it as `{ transaction: t }` to each call, as with
 * Sequelize's own transactions (or enable Sequelize's CLS and pass nothing).
 *
 * Sequelize's own `sequelize.transaction(fn)` runs `fn` once: a 40001 reaches the
 * caller, and a statement error the callback caught still ends in COMMIT, which
 * PostgreSQL answers with ROLLBACK while Sequelize reports success.
 *
 * The session is an unmanaged Sequelize transaction: the core reads its state from
 * the driver's connection, sends its savepoints on that connection, and has
 * Sequelize destroy a connection that broke instead of pooling it.
 *
 * @example
 * import { runSequelizeTransaction } from 'roachbank/sequelize';
 * await runSequelizeTransaction(sequelize, async (t) => {
 *   const account = await Account.findByPk(id, { transaction: t, rejectOnEmpty: true });
 *   await account.update({ balance: account.balance - 100n }, { transaction: t });
 * });
 */
export function runSequelizeTransaction<T>(
  sequelize: Sequelize,
  fn: (t: Transaction, attempt: number) => Promise<T>,
  options?: RunTransactionOptions,
): Promise<T> {
  return runTransactionOn(sequelizeSessionSource(sequelize), fn, options);
}

/**
 * What the session reads of a Sequelize v6 transaction beyond its typings: the
 * driver connection it holds, whether it finished, and the clean-up Sequelize
 * itself runs when COMMIT fails (destroy the connection instead of pooling it).
 */
interface SequelizeTransactionInternals {
  connection: pg.Client & { uuid?: string };
  finished?: string;
  forceCleanup(): Promise<void>;
}

/** Sessions on a Sequelize instance: one unmanaged transaction (one pooled connection) each. */
export function sequelizeSessionSource(sequelize: Sequelize): SessionSource<Transaction> {
  return {
    identity: sequelize,
    async open(mode) {
      // Sequelize takes a connection, sends START TRANSACTION, then SET TRANSACTION ISOLATION LEVEL.
      const t = await sequelize.transaction({ isolationLevel: mode.isolation.toUpperCase() as Transaction.ISOLATION_LEVELS });
      const inner = t as unknown as SequelizeTransactionInternals;
      const raw = inner.connection;
      const session = sessionOnConnection(raw, {
        handle: t,
        async begin(_mode, savepoint) {
          if (savepoint) await raw.query(`SAVEPOINT ${savepoint}`);
        },
        async commit() {
          await t.commit();
          return 'committed';
        },
        async rollback() {
          if (inner.finished) await raw.query('ROLLBACK');
          else await t.rollback();
        },
        giveBack() {}, // Sequelize gave the connection back when it committed or rolled back
        destroy() {
          inner.finished ??= 'rollback';
          inner.forceCleanup().catch(() => {});
        },
      });
      // Sequelize's own `readOnly` picks a read replica; the server's READ ONLY mode is this statement.
      if (mode.readOnly) {
        try {
          await raw.query('SET TRANSACTION READ ONLY');
        } catch (error) {
          session.discard(error);
          throw error;
        }
      }
      return session;
    },
  };
}
