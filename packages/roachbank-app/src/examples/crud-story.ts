// Seed demo 2, the SQLAlchemy tutorial's main.py, as a story told through any
// data layer: this file holds what every library shares (the random accounts,
// the half-balance rule and its checks, the order of the steps and every line
// printed); each crud-<library>.ts holds only that library's queries, each step
// in one transaction through roachbank's adapter for that library.
//
// The tutorial's behaviour, without its bugs: what a step prints is printed once
// the step has committed, and the ids it remembers are kept outside the retried
// callback (the tutorial appends inside it, so a retry would record them twice);
// the insufficient-funds check sits where it can fire; and it deletes only
// accounts this run created.
import { randomUUID } from 'node:crypto';
import { RoachbankError } from 'roachbank';

type Print = (line: string) => void;

/** The tutorial's dbinit.sql, made safe to run again. */
export const createAccountsTable = 'CREATE TABLE IF NOT EXISTS accounts (id UUID PRIMARY KEY, balance INT8)';

/** One row of `accounts` (the tutorial's `Account` model). */
export interface Account {
  readonly id: string;
  readonly balance: bigint | null;
}

/** What a transfer did, to be printed after it committed. */
export interface TransferStory {
  readonly from: Account;
  readonly to: Account;
  readonly amount: bigint;
  readonly newFromBalance: bigint;
  readonly newToBalance: bigint;
}

/**
 * The tutorial's three steps in one data layer. Each method is one transaction,
 * run (and re-run on a retryable error) by that library's roachbank adapter.
 */
export interface CrudLayer {
  /** `create_accounts`: inserts these accounts. */
  createAccounts(accounts: readonly Account[]): Promise<void>;
  /** `transfer_funds_randomly`: reads both accounts and moves half of the first one's balance to the second. */
  transferHalf(fromId: string, toId: string): Promise<TransferStory>;
  /** `delete_accounts`: deletes the accounts with these ids; returns the ids it deleted. */
  deleteAccounts(ids: readonly string[]): Promise<string[]>;
  /** Closes what the layer opened (never the caller's pool). */
  close(): Promise<void>;
}

/** N new accounts with random UUIDv4 ids and balances in [0, 1,000,000). */
export function randomAccounts(count: number, random: () => number = Math.random): Account[] {
  return Array.from({ length: count }, () => ({
    id: randomUUID(),
    balance: BigInt(Math.floor(random() * 1_000_000)),
  }));
}

/** An account as a library returns it (INT8 comes back as a string from node-postgres), or `undefined`. */
export function accountOf(row: { id: string; balance: bigint | string | number | null } | null | undefined): Account | undefined {
  if (!row) return undefined;
  return { id: row.id, balance: row.balance === null ? null : BigInt(row.balance) };
}

/**
 * The transfer of `amount` from `source` to `dest` as read in this transaction;
 * refuses with INSUFFICIENT_FUNDS when the source holds less. The caller writes
 * the two new balances.
 */
export function planMove(source: Account, dest: Account, amount: bigint): TransferStory {
  const sourceBalance = source.balance ?? 0n;
  const destBalance = dest.balance ?? 0n;
  // Check balance of the first account.
  if (sourceBalance < amount) {
    throw new RoachbankError('INSUFFICIENT_FUNDS', `Insufficient funds in account ${source.id}`);
  }
  return { from: source, to: dest, amount, newFromBalance: sourceBalance - amount, newToBalance: destBalance + amount };
}

/**
 * `planMove` of half the source's balance, rounded down, as the tutorial does;
 * ACCOUNT_NOT_FOUND when either account was not found.
 */
export function planHalfTransfer(
  fromId: string,
  source: Account | undefined,
  toId: string,
  dest: Account | undefined,
): TransferStory {
  if (!source) throw new RoachbankError('ACCOUNT_NOT_FOUND', `No result was found for account ${fromId}`);
  if (!dest) throw new RoachbankError('ACCOUNT_NOT_FOUND', `No result was found for account ${toId}`);
  return planMove(source, dest, (source.balance ?? 0n) / 2n); // floor: balances are never negative here
}

/** Removes and returns a random element. */
function takeRandom<T>(items: T[], random: () => number): T {
  return items.splice(Math.floor(random() * items.length), 1)[0]!;
}

/** Tells the tutorial's story through `layer`, printing exactly what the tutorial prints. */
export async function runCrudStory(layer: CrudLayer, print: Print, random: () => number): Promise<void> {
  const seenAccountIds: string[] = [];

  print('Creating new accounts...');
  const newAccounts = randomAccounts(100, random);
  await layer.createAccounts(newAccounts);
  for (const account of newAccounts) {
    seenAccountIds.push(account.id);
    print(`Created new account with id ${account.id} and balance ${account.balance}.`);
  }

  const candidates = [...seenAccountIds];
  const fromId = takeRandom(candidates, random);
  const toId = takeRandom(candidates, random);
  const story = await layer.transferHalf(fromId, toId);
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
  const deleted = await layer.deleteAccounts(deleteIds);
  for (const id of deleted) print(`Deleted account ${id}.`);
}
