// The CRUD demo on TypeORM: each step is one runTypeormTransaction, and its
// callback gets TypeORM's own EntityManager. The model is an EntitySchema, so
// no decorators (and no reflect-metadata) are needed. TypeORM keeps its own
// pool, opened with the settings of the caller's (TLS included) and closed at the end.
import type pg from 'pg';
import { clientConfigOf } from 'roachbank';
import { runTypeormTransaction } from 'roachbank/typeorm';
import { DataSource, EntitySchema, In } from 'typeorm';
import { accountOf, type CrudLayer, planHalfTransfer } from './crud-story.js';

/** The tutorial's `Account` model; TypeORM reads and writes INT8 as a string. */
const Account = new EntitySchema<{ id: string; balance: string | null }>({
  name: 'Account',
  tableName: 'accounts',
  columns: { id: { type: 'uuid', primary: true }, balance: { type: 'bigint', nullable: true } },
});

/** The demo's steps on TypeORM, on a small pool of its own. */
export async function openCrudLayer(pool: pg.Pool): Promise<CrudLayer> {
  const dataSource = await new DataSource({
    type: 'postgres',
    entities: [Account],
    extra: { ...clientConfigOf(pool), max: 2 },
  }).initialize();
  return {
    createAccounts: (newAccounts) =>
      runTypeormTransaction(dataSource, async (manager) => {
        await manager.insert(
          Account,
          newAccounts.map(({ id, balance }) => ({ id, balance: balance?.toString() ?? null })),
        );
      }),

    transferHalf: (fromId, toId) =>
      runTypeormTransaction(dataSource, async (manager) => {
        const find = (id: string) => manager.findOneBy(Account, { id });
        const story = planHalfTransfer(fromId, accountOf(await find(fromId)), toId, accountOf(await find(toId)));
        await manager.update(Account, { id: fromId }, { balance: story.newFromBalance.toString() });
        await manager.update(Account, { id: toId }, { balance: story.newToBalance.toString() });
        return story;
      }),

    deleteAccounts: (ids) =>
      runTypeormTransaction(dataSource, async (manager) => {
        const result = await manager
          .createQueryBuilder()
          .delete()
          .from(Account)
          .where({ id: In([...ids]) })
          .returning('id')
          .execute();
        return (result.raw as { id: string }[]).map((row) => row.id);
      }),

    close: () => dataSource.destroy(),
  };
}
