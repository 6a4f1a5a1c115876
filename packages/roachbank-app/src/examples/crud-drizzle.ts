// The CRUD demo on Drizzle ORM (the default of `roachbank example crud`): each
// step runs in runOrmTransaction, the counterpart of sqlalchemy_cockroachdb's
// run_transaction.
import { eq, inArray } from 'drizzle-orm';
import type pg from 'pg';
import { type OrmTransaction, runOrmTransaction } from 'roachbank/orm';
import { accounts } from './account-model.js';
import { type Account, type CrudLayer, planHalfTransfer, planMove, type TransferStory } from './crud-story.js';

/** Inserts the accounts (the tutorial's `session.add_all`). */
export async function createAccounts(tx: OrmTransaction, newAccounts: readonly Account[]): Promise<void> {
  await tx.insert(accounts).values([...newAccounts]);
}

/**
 * Moves `amount` from `source` to `dest`, as read in this transaction; refuses
 * with INSUFFICIENT_FUNDS when the source holds less.
 */
export async function moveFunds(tx: OrmTransaction, source: Account, dest: Account, amount: bigint): Promise<TransferStory> {
  return writeBalances(tx, planMove(source, dest, amount));
}

/** Reads both accounts and moves half of the first one's balance (rounded down) to the second. */
export async function transferFundsRandomly(tx: OrmTransaction, one: string, two: string): Promise<TransferStory> {
  const [source] = await tx.select().from(accounts).where(eq(accounts.id, one));
  const [dest] = await tx.select().from(accounts).where(eq(accounts.id, two));
  return writeBalances(tx, planHalfTransfer(one, source, two, dest));
}

/** Writes a planned transfer's two new balances. */
async function writeBalances(tx: OrmTransaction, story: TransferStory): Promise<TransferStory> {
  await tx.update(accounts).set({ balance: story.newFromBalance }).where(eq(accounts.id, story.from.id));
  await tx.update(accounts).set({ balance: story.newToBalance }).where(eq(accounts.id, story.to.id));
  return story;
}

/** Deletes the accounts with these ids; returns the ids it deleted. */
export async function deleteAccounts(tx: OrmTransaction, ids: readonly string[]): Promise<string[]> {
  const deleted = await tx
    .delete(accounts)
    .where(inArray(accounts.id, [...ids]))
    .returning({ id: accounts.id });
  return deleted.map((row) => row.id);
}

/** The demo's steps on Drizzle, on the caller's pool. */
export async function openCrudLayer(pool: pg.Pool): Promise<CrudLayer> {
  return {
    createAccounts: (newAccounts) => runOrmTransaction(pool, (tx) => createAccounts(tx, newAccounts)),
    transferHalf: (fromId, toId) => runOrmTransaction(pool, (tx) => transferFundsRandomly(tx, fromId, toId)),
    deleteAccounts: (ids) => runOrmTransaction(pool, (tx) => deleteAccounts(tx, ids)),
    close: async () => {},
  };
}
