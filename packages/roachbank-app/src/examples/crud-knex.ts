// The CRUD demo on Knex: each step is one runKnexTransaction, and its callback
// gets Knex's own `trx`. Knex keeps its own pool, opened with the settings of
// the caller's (TLS included) and closed at the end.
import knexFactory from 'knex';
import type pg from 'pg';
import { clientConfigOf } from 'roachbank';
import { runKnexTransaction } from 'roachbank/knex';
import { accountOf, type CrudLayer, planHalfTransfer } from './crud-story.js';

/** The demo's steps on Knex, on a small pool of its own. */
export async function openCrudLayer(pool: pg.Pool): Promise<CrudLayer> {
  const knex = knexFactory({ client: 'pg', connection: clientConfigOf(pool), pool: { min: 0, max: 2 } });
  return {
    createAccounts: (newAccounts) =>
      runKnexTransaction(knex, async (trx) => {
        await trx('accounts').insert(newAccounts.map(({ id, balance }) => ({ id, balance })));
      }),

    transferHalf: (fromId, toId) =>
      runKnexTransaction(knex, async (trx) => {
        const find = (id: string) => trx('accounts').where({ id }).first();
        const story = planHalfTransfer(fromId, accountOf(await find(fromId)), toId, accountOf(await find(toId)));
        await trx('accounts').where({ id: fromId }).update({ balance: story.newFromBalance });
        await trx('accounts').where({ id: toId }).update({ balance: story.newToBalance });
        return story;
      }),

    deleteAccounts: (ids) =>
      runKnexTransaction(knex, async (trx) => {
        const deleted: { id: string }[] = await trx('accounts').whereIn('id', ids).del(['id']);
        return deleted.map((row) => row.id);
      }),

    close: () => knex.destroy(),
  };
}
