// Each data layer roachbank adapts, opened on a test database the way a user
// opens it, with the few operations the contract suite needs written in that
// layer's own query API.
import { PrismaPg } from '@prisma/adapter-pg';
import { eq, sql } from 'drizzle-orm';
import { bigint, pgTable, uuid } from 'drizzle-orm/pg-core';
import knexFactory from 'knex';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DataTypes, type Model, type ModelStatic, Sequelize } from 'sequelize';
import { DataSource, EntitySchema } from 'typeorm';
import { runKnexTransaction } from '../../packages/roachbank/src/adapters/knex.js';
import { runKyselyTransaction } from '../../packages/roachbank/src/adapters/kysely.js';
import { runPrismaTransaction } from '../../packages/roachbank/src/adapters/prisma.js';
import { runSequelizeTransaction } from '../../packages/roachbank/src/adapters/sequelize.js';
import { runTypeormTransaction } from '../../packages/roachbank/src/adapters/typeorm.js';
import { createPool } from '../../packages/roachbank/src/db/create-pool.js';
import { runOrmTransaction } from '../../packages/roachbank/src/orm/run-orm-transaction.js';
import type { RunTransactionOptions } from '../../packages/roachbank/src/txn/run-transaction.js';
import { PrismaClient } from '../../packages/roachbank-app/src/examples/prisma-client/client.js';

/** One data layer on one database, driven through its roachbank adapter. */
export interface LayerUnderTest {
  readonly name: string;
  /** The adapter: `fn` gets the layer's own transaction object, typed loosely here. */
  run<T>(fn: (tx: never, attempt: number) => Promise<T>, options?: RunTransactionOptions): Promise<T>;
  /** INSERT INTO items (n), in the layer's API. */
  insertItem(tx: unknown, n: number): Promise<void>;
  /** Reads an account's balance and writes it back plus `amount`: a read-modify-write. */
  addToBalance(tx: unknown, id: string, amount: number): Promise<void>;
  /** Opens an account with an id that already exists: fails with 23505. */
  insertAccount(tx: unknown, id: string): Promise<void>;
  close(): Promise<void>;
}

/** The tables every layer works on; created by the suite with plain SQL. */
export const contractTables = `
  CREATE TABLE items (n INT8 NOT NULL);
  CREATE TABLE accounts (id UUID PRIMARY KEY, balance INT8 NOT NULL);`;

const poolSize = 4;
type Any = never;

export const dataLayers: Record<string, (url: string) => Promise<LayerUnderTest>> = {
  async drizzle(url) {
    const pool = createPool(url, { max: poolSize });
    const accounts = pgTable('accounts', {
      id: uuid('id').primaryKey(),
      balance: bigint('balance', { mode: 'bigint' }).notNull(),
    });
    type Tx = Parameters<Parameters<typeof runOrmTransaction>[1]>[0];
    return {
      name: 'drizzle',
      run: (fn, options) => runOrmTransaction(pool, fn as (tx: Tx, attempt: number) => Promise<never>, options),
      async insertItem(tx, n) {
        await (tx as Tx).execute(sql`INSERT INTO items VALUES (${n})`);
      },
      async addToBalance(tx, id, amount) {
        const [row] = await (tx as Tx).select().from(accounts).where(eq(accounts.id, id));
        await (tx as Tx)
          .update(accounts)
          .set({ balance: (row?.balance ?? 0n) + BigInt(amount) })
          .where(eq(accounts.id, id));
      },
      async insertAccount(tx, id) {
        await (tx as Tx).insert(accounts).values({ id, balance: 0n });
      },
      close: () => pool.end(),
    };
  },

  async kysely(url) {
    interface Database {
      items: { n: number };
      accounts: { id: string; balance: string };
    }
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    // As the README asks of Kysely users: Kysely never listens on the clients it checks out,
    // and node-postgres emits 'error' on a client whose socket fails mid-transaction.
    pool.on('connect', (client) => client.on('error', () => {}));
    pool.on('error', () => {}); // an idle client's failure, as pg's documentation asks
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    type Tx = Parameters<Parameters<typeof runKyselyTransaction<Database, Any>>[1]>[0];
    return {
      name: 'kysely',
      run: (fn, options) => runKyselyTransaction(db, fn as (tx: Tx, attempt: number) => Promise<never>, options),
      async insertItem(tx, n) {
        await (tx as Tx).insertInto('items').values({ n }).execute();
      },
      async addToBalance(tx, id, amount) {
        const row = await (tx as Tx).selectFrom('accounts').select('balance').where('id', '=', id).executeTakeFirstOrThrow();
        const balance = (BigInt(row.balance) + BigInt(amount)).toString();
        await (tx as Tx).updateTable('accounts').set({ balance }).where('id', '=', id).execute();
      },
      async insertAccount(tx, id) {
        await (tx as Tx).insertInto('accounts').values({ id, balance: '0' }).execute();
      },
      close: () => db.destroy(),
    };
  },

  async knex(url) {
    const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: poolSize } });
    type Tx = Parameters<Parameters<typeof runKnexTransaction>[1]>[0];
    return {
      name: 'knex',
      run: (fn, options) => runKnexTransaction(knex, fn as (tx: Tx, attempt: number) => Promise<never>, options),
      async insertItem(tx, n) {
        await (tx as Tx)('items').insert({ n });
      },
      async addToBalance(tx, id, amount) {
        const row = await (tx as Tx)('accounts').where({ id }).first('balance');
        await (tx as Tx)('accounts')
          .where({ id })
          .update({ balance: (BigInt(row.balance) + BigInt(amount)).toString() });
      },
      async insertAccount(tx, id) {
        await (tx as Tx)('accounts').insert({ id, balance: 0 });
      },
      close: () => knex.destroy(),
    };
  },

  async typeorm(url) {
    const Account = new EntitySchema<{ id: string; balance: string }>({
      name: 'Account',
      tableName: 'accounts',
      columns: { id: { type: 'uuid', primary: true }, balance: { type: 'bigint' } },
    });
    const dataSource = await new DataSource({ type: 'postgres', url, entities: [Account], poolSize }).initialize();
    type Tx = Parameters<Parameters<typeof runTypeormTransaction>[1]>[0];
    return {
      name: 'typeorm',
      run: (fn, options) => runTypeormTransaction(dataSource, fn as (tx: Tx, attempt: number) => Promise<never>, options),
      async insertItem(tx, n) {
        await (tx as Tx).query('INSERT INTO items VALUES ($1)', [n]);
      },
      async addToBalance(tx, id, amount) {
        const account = await (tx as Tx).findOneByOrFail(Account, { id });
        account.balance = (BigInt(account.balance) + BigInt(amount)).toString();
        await (tx as Tx).save(Account, account);
      },
      async insertAccount(tx, id) {
        await (tx as Tx).insert(Account, { id, balance: '0' });
      },
      close: () => dataSource.destroy(),
    };
  },

  async sequelize(url) {
    const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false, pool: { max: poolSize, min: 0 } });
    const Account: ModelStatic<Model<{ id: string; balance: string }>> = sequelize.define(
      'Account',
      { id: { type: DataTypes.UUID, primaryKey: true }, balance: { type: DataTypes.BIGINT, allowNull: false } },
      { tableName: 'accounts', timestamps: false },
    );
    type Tx = Parameters<Parameters<typeof runSequelizeTransaction>[1]>[0];
    return {
      name: 'sequelize',
      run: (fn, options) => runSequelizeTransaction(sequelize, fn as (tx: Tx, attempt: number) => Promise<never>, options),
      async insertItem(tx, n) {
        await sequelize.query('INSERT INTO items VALUES (:n)', { replacements: { n }, transaction: tx as Tx });
      },
      async addToBalance(tx, id, amount) {
        const account = await Account.findByPk(id, { transaction: tx as Tx, rejectOnEmpty: true });
        const balance = (BigInt(String(account.get('balance'))) + BigInt(amount)).toString();
        await account.update({ balance }, { transaction: tx as Tx });
      },
      async insertAccount(tx, id) {
        await Account.create({ id, balance: '0' }, { transaction: tx as Tx });
      },
      close: () => sequelize.close(),
    };
  },

  async prisma(url) {
    const pool = createPool(url, { max: poolSize }); // a pool of the user's own: it listens for errors
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    type Tx = Parameters<Parameters<typeof prisma.$transaction>[0]>[0];
    // Each attempt is one interactive transaction: give it room under 16-way contention.
    const limits = { maxWait: 10_000, timeout: 10_000 };
    return {
      name: 'prisma',
      run: (fn, options) =>
        runPrismaTransaction(prisma, fn as (tx: Tx, attempt: number) => Promise<never>, { ...options, prisma: limits }),
      async insertItem(tx, n) {
        await (tx as Tx).$executeRaw`INSERT INTO items VALUES (${n})`;
      },
      async addToBalance(tx, id, amount) {
        const account = await (tx as Tx).account.findUniqueOrThrow({ where: { id } });
        await (tx as Tx).account.update({ where: { id }, data: { balance: account.balance + BigInt(amount) } });
      },
      async insertAccount(tx, id) {
        await (tx as Tx).account.create({ data: { id, balance: 0n } });
      },
      async close() {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  },
};
