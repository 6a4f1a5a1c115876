// The CRUD demo on Kysely: each step is one runKyselyTransaction, and its
// callback gets Kysely's own `trx`.
import { type ColumnType, Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { runKyselyTransaction } from 'roachbank/kysely';
import { accountOf, type CrudLayer, planHalfTransfer } from './crud-story.js';

/** The tutorial's table as Kysely sees it: node-postgres reads INT8 as a string; a bigint is written as is. */
interface Database {
  accounts: { id: string; balance: ColumnType<string | null, bigint | null, bigint> };
}

/** The demo's steps on Kysely, on the caller's pool. */
export async function openCrudLayer(pool: pg.Pool): Promise<CrudLayer> {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    createAccounts: (newAccounts) =>
      runKyselyTransaction(db, async (trx) => {
        await trx
          .insertInto('accounts')
          .values(newAccounts.map(({ id, balance }) => ({ id, balance })))
          .execute();
      }),

    transferHalf: (fromId, toId) =>
      runKyselyTransaction(db, async (trx) => {
        const find = (id: string) => trx.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
        const story = planHalfTransfer(fromId, accountOf(await find(fromId)), toId, accountOf(await find(toId)));
        await trx.updateTable('accounts').set({ balance: story.newFromBalance }).where('id', '=', fromId).execute();
        await trx.updateTable('accounts').set({ balance: story.newToBalance }).where('id', '=', toId).execute();
        return story;
      }),

    deleteAccounts: (ids) =>
      runKyselyTransaction(db, async (trx) => {
        const deleted = await trx.deleteFrom('accounts').where('id', 'in', ids).returning('id').execute();
        return deleted.map((row) => row.id);
      }),

    // Not db.destroy(): that would end the caller's pool.
    close: async () => {},
  };
}
