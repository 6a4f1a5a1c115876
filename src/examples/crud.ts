// Seed demo 2, the SQLAlchemy tutorial's main.py in TypeScript on Drizzle ORM:
//   1. create 100 accounts with random ids and balances;
//   2. pick two at random and move half of the first one's money to the second;
//   3. pick five at random and delete them.
// Each step runs in runOrmTransaction, the counterpart of sqlalchemy_cockroachdb's
// run_transaction.
//
// The tutorial's behaviour, without its bugs: what a step prints is printed once
// the step has committed, and the ids it remembers are kept outside the retried
// callback (the tutorial appends inside it, so a retry would record them twice);
// the insufficient-funds check sits where it can fire (moveFunds takes any amount);
// and it deletes only accounts this run created.
import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { type OrmTransaction, runOrmTransaction } from '../orm/run-orm-transaction.js';
import { type Account, accounts, createAccountsTable } from './account-model.js';

type Print = (line: string) => void;

/** What a transfer did, to be printed after it committed. */
export interface TransferStory {
  readonly from: Account;
  readonly to: Account;
  readonly amount: bigint;
  readonly newFromBalance: bigint;
  readonly newToBalance: bigint;
}

/** N new accounts with random UUIDv4 ids and balances in [0, 1,000,000). */
export function randomAccounts(count: number, random: () => number = Math.random): Account[] {
  return Array.from({ length: count }, () => ({
    id: randomUUID(),
    balance: BigInt(Math.floor(random() * 1_000_000)),
  }));
}

/** Inserts the accounts (the tutorial's `session.add_all`). */
export async function createAccounts(tx: OrmTransaction, newAccounts: readonly Account[]): Promise<void> {
  await tx.insert(accounts).values([...newAccounts]);
}

/**
 * Moves `amount` from `source` to `dest`, as read in this transaction; refuses
 * with INSUFFICIENT_FUNDS when the source holds less.
 */
export async function moveFunds(tx: OrmTransaction, source: Account, dest: Account, amount: bigint): Promise<TransferStory> {
  const sourceBalance = source.balance ?? 0n;
  const destBalance = dest.balance ?? 0n;
  // Check balance of the first account.
  if (sourceBalance < amount) {
    throw new RoachbankError('INSUFFICIENT_FUNDS', `Insufficient funds in account ${source.id}`);
  }
  await tx
    .update(accounts)
    .set({ balance: sourceBalance - amount })
    .where(eq(accounts.id, source.id));
  await tx
    .update(accounts)
    .set({ balance: destBalance + amount })
    .where(eq(accounts.id, dest.id));
  return { from: source, to: dest, amount, newFromBalance: sourceBalance - amount, newToBalance: destBalance + amount };
}

/** Reads both accounts and moves half of the first one's balance (rounded down) to the second. */
export async function transferFundsRandomly(tx: OrmTransaction, one: string, two: string): Promise<TransferStory> {
  const sources = await tx.select().from(accounts).where(eq(accounts.id, one));
  if (sources.length !== 1) throw new RoachbankError('ACCOUNT_NOT_FOUND', `No result was found for account ${one}`);
  const [dest] = await tx.select().from(accounts).where(eq(accounts.id, two)).limit(1);
  if (!dest) throw new RoachbankError('ACCOUNT_NOT_FOUND', `No result was found for account ${two}`);
  const source = sources[0]!;
  const amount = (source.balance ?? 0n) / 2n; // floor: balances are never negative here
  return moveFunds(tx, source, dest, amount);
}

/** Deletes the accounts with these ids; returns the ids it deleted. */
export async function deleteAccounts(tx: OrmTransaction, ids: readonly string[]): Promise<string[]> {
  const deleted = await tx
    .delete(accounts)
    .where(inArray(accounts.id, [...ids]))
    .returning({ id: accounts.id });
  return deleted.map((row) => row.id);
}

/** Removes and returns a random element. */
function takeRandom<T>(items: T[], random: () => number): T {
  return items.splice(Math.floor(random() * items.length), 1)[0]!;
}

/**
 * Runs the CRUD demo on `pool`, printing exactly what the tutorial prints.
 *
 * @example
 * await runCrudExample(pool); // Creating new accounts... / Created new account with id ... / ...
 */
export async function runCrudExample(
  pool: pg.Pool,
  print: Print = console.log,
  random: () => number = Math.random,
): Promise<void> {
  await pool.query(createAccountsTable);
  const seenAccountIds: string[] = [];

  print('Creating new accounts...');
  const newAccounts = randomAccounts(100, random);
  await runOrmTransaction(pool, (tx) => createAccounts(tx, newAccounts));
  for (const account of newAccounts) {
    seenAccountIds.push(account.id);
    print(`Created new account with id ${account.id} and balance ${account.balance}.`);
  }

  const candidates = [...seenAccountIds];
  const fromId = takeRandom(candidates, random);
  const toId = takeRandom(candidates, random);
  const story = await runOrmTransaction(pool, (tx) => transferFundsRandomly(tx, fromId, toId));
  print('Random account balances:');
  print(`Account ${fromId}: ${story.from.balance}`);
  print(`Account ${toId}: ${story.to.balance}`);
  print(`Transferring ${story.amount} from account ${fromId} to account ${toId}...`);
  print('Transfer complete.');
  print('New balances:');
  print(`Account ${fromId}: ${story.newFromBalance}`);
  print(`Account ${toId}: ${story.newToBalance}`);

  print('Deleting existing accounts...');
  const deleteIds = Array.from({ length: 5 }, () => takeRandom(seenAccountIds, random));
  const deleted = await runOrmTransaction(pool, (tx) => deleteAccounts(tx, deleteIds));
  for (const id of deleted) print(`Deleted account ${id}.`);
}
