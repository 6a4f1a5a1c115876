import type pg from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { SessionSource } from '../txn/attempt-session.js';
import { sessionOnConnection } from '../txn/pg-session.js';
import { type RunTransactionOptions, runTransactionOn } from '../txn/run-transaction.js';

/**
 * `runTransaction` for TypeORM (on its `postgres` driver): the callback gets the
 * `EntityManager` of the attempt's query runner, so repositories and the query
 * builder taken from it run in the transaction unchanged.
 *
 * TypeORM's own `dataSource.transaction(fn)` runs `fn` once: a 40001 reaches the
 * caller, and a statement error the callback caught still ends in COMMIT, which
 * PostgreSQL answers with ROLLBACK while TypeORM reports success.
 *
 * The session opens TypeORM's transaction on its query runner (so TypeORM knows a
 * transaction is active and `save()` does not open one of its own), reads the
 * transaction's state from the driver's connection, and ends a connection that
 * broke before the query runner releases it, so pg-pool drops it.
 *
 * @example
 * import { runTypeormTransaction } from 'roachbank/typeorm';
 * await runTypeormTransaction(dataSource, async (manager) => {
 *   const account = await manager.findOneByOrFail(Account, { id });
 *   account.balance -= 100n;
 *   await manager.save(account);
 * });
 */
export function runTypeormTransaction<T>(
  dataSource: DataSource,
  fn: (manager: EntityManager, attempt: number) => Promise<T>,
  options?: RunTransactionOptions,
): Promise<T> {
  return runTransactionOn(typeormSessionSource(dataSource), fn, options);
}

/** Sessions on a TypeORM DataSource: one query runner (one pooled connection) each. */
export function typeormSessionSource(dataSource: DataSource): SessionSource<EntityManager> {
  return {
    identity: dataSource,
    async open() {
      const runner: QueryRunner = dataSource.createQueryRunner();
      const raw = (await runner.connect()) as pg.PoolClient;
      return sessionOnConnection(raw, {
        handle: runner.manager,
        async begin(mode, savepoint) {
          await runner.startTransaction(mode.isolation.toUpperCase() as 'SERIALIZABLE');
          if (mode.readOnly) await raw.query('SET TRANSACTION READ ONLY');
          if (savepoint) await raw.query(`SAVEPOINT ${savepoint}`);
        },
        async commit() {
          await runner.commitTransaction();
          return 'committed';
        },
        async rollback() {
          if (runner.isTransactionActive) await runner.rollbackTransaction();
          else await raw.query('ROLLBACK');
        },
        giveBack: () => runner.release(),
        destroy() {
          raw.end().catch(() => {}); // pg-pool drops a client that is ending when it comes back
          runner.release().catch(() => {});
        },
      });
    },
  };
}
