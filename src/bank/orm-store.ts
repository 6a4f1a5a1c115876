import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { type OrmTransaction, runOrmTransaction } from '../orm/run-orm-transaction.js';
import { sqlState } from '../txn/classify-error.js';
import type { IsolationLevel } from '../txn/run-transaction.js';
import type { Account, JournalEntry, MovementOutcome, MovementResult } from './bank.js';
import { translateDatabaseError } from './bank-errors.js';
import type { BankStore, NewAccount, PagePosition, Positioned, StoreRetry } from './bank-store.js';
import type { CheckedMovement } from './movement.js';
import { decideMovement } from './movement-decision.js';
import { accountsTable as accounts, transfersTable as transfers } from './product-schema.js';
import { isDefiniteAnswer } from './resolve-ambiguity.js';

const position = (column: typeof accounts.createdAt | typeof transfers.createdAt) => sql<string>`${column}::TEXT`;

/**
 * The bank's tables on Drizzle ORM: each operation is a read-check-write
 * transaction in `runOrmTransaction`, one movement at a time. A movement locks
 * its account rows (`FOR UPDATE`, in id order) before it reads the balance it
 * checks, so nobody can change it until it commits: that makes it correct at
 * READ COMMITTED, where PostgreSQL waits on a contended row instead of failing
 * with 40001; every other operation runs at SERIALIZABLE.
 *
 * @example
 * const bank = new StoreBank(new OrmStore(pool, storeRetry(options)), options);
 */
export class OrmStore implements BankStore {
  readonly pool: pg.Pool;
  readonly groupCommit = undefined;
  readonly retry: StoreRetry;

  constructor(pool: pg.Pool, retry: StoreRetry) {
    this.pool = pool;
    this.retry = retry;
  }

  async moveBatch(items: readonly CheckedMovement[], signal?: AbortSignal): Promise<MovementResult[]> {
    if (items.length !== 1) throw new Error(`the orm store moves one movement at a time, not ${items.length}`);
    try {
      return [{ ok: true, outcome: await this.#run('read committed', (tx) => moveOne(tx, items[0]!), signal) }];
    } catch (error) {
      if (isDefiniteAnswer(error)) return [{ ok: false, error }];
      throw error;
    }
  }

  async insertAccount({ id, balance, openingId }: NewAccount): Promise<Account | undefined> {
    return this.#run('serializable', async (tx) => {
      const [existing] = await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, id));
      if (existing) return undefined;
      if (balance > 0n) {
        const [taken] = await tx.select({ id: transfers.id }).from(transfers).where(eq(transfers.id, openingId));
        if (taken) return undefined; // the bank answers IDEMPOTENCY_CONFLICT
      }
      const [account] = await tx.insert(accounts).values({ id, balance }).returning();
      if (balance > 0n) {
        await tx.insert(transfers).values({ id: openingId, kind: 'deposit', fromId: null, toId: id, amount: balance });
      }
      return account!;
    });
  }

  async findAccount(id: string): Promise<Account | undefined> {
    const [account] = await this.#read((tx) => tx.select().from(accounts).where(eq(accounts.id, id)));
    return account;
  }

  async readBalances(ids: readonly string[]): Promise<Map<string, bigint>> {
    const rows = await this.#read((tx) =>
      tx
        .select({ id: accounts.id, balance: accounts.balance })
        .from(accounts)
        .where(inArray(accounts.id, [...ids])),
    );
    return new Map(rows.map((row) => [row.id, row.balance]));
  }

  listAccounts(limit: number, after: PagePosition | null): Promise<Positioned<Account>[]> {
    return this.#read((tx) =>
      tx
        .select({
          id: accounts.id,
          balance: accounts.balance,
          createdAt: accounts.createdAt,
          closedAt: accounts.closedAt,
          position: position(accounts.createdAt),
        })
        .from(accounts)
        .where(
          after ? sql`(${accounts.createdAt}, ${accounts.id}) > (${after.createdAt}::TIMESTAMPTZ, ${after.id}::UUID)` : undefined,
        )
        .orderBy(asc(accounts.createdAt), asc(accounts.id))
        .limit(limit),
    );
  }

  closeAccount(id: string, closing: (account: Account | undefined) => Account | 'close'): Promise<Account> {
    return this.#run('serializable', async (tx) => {
      const [account] = await tx.select().from(accounts).where(eq(accounts.id, id)).for('update');
      const decision = closing(account);
      if (decision !== 'close') return decision;
      const [closed] = await tx.update(accounts).set({ closedAt: sql`now()` }).where(eq(accounts.id, id)).returning();
      return closed!;
    });
  }

  async findTransfers(ids: readonly string[]): Promise<Map<string, JournalEntry>> {
    const rows = await this.#read((tx) =>
      tx
        .select()
        .from(transfers)
        .where(inArray(transfers.id, [...ids])),
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  history(accountId: string, limit: number, after: PagePosition | null): Promise<Positioned<JournalEntry>[]> {
    // Two ordered, limited branches (one per account index), merged: a page reads
    // at most twice its size, as PgStore's history does.
    const before = after
      ? sql`(${transfers.createdAt}, ${transfers.id}) < (${after.createdAt}::TIMESTAMPTZ, ${after.id}::UUID)`
      : undefined;
    return this.#read((tx) => {
      const branch = (side: typeof transfers.fromId | typeof transfers.toId) =>
        tx
          .select({
            id: transfers.id,
            kind: transfers.kind,
            fromId: transfers.fromId,
            toId: transfers.toId,
            amount: transfers.amount,
            createdAt: transfers.createdAt,
            position: position(transfers.createdAt).as('position'),
          })
          .from(transfers)
          .where(and(eq(side, accountId), before))
          .orderBy(desc(transfers.createdAt), desc(transfers.id))
          .limit(limit);
      return unionAll(branch(transfers.fromId), branch(transfers.toId))
        .orderBy(desc(transfers.createdAt), desc(transfers.id))
        .limit(limit);
    });
  }

  /** A transaction that only reads (`READ ONLY`): a lost connection is retried, never ambiguous. */
  #read<T>(work: (tx: OrmTransaction) => Promise<T>): Promise<T> {
    return this.#run('serializable', work, undefined, true);
  }

  /**
   * One ORM transaction, with the bank's error meanings. A duplicate key (23505)
   * means a concurrent request creating the same account id committed first
   * (movements use ON CONFLICT instead): running again finds it.
   */
  async #run<T>(
    isolation: IsolationLevel,
    work: (tx: OrmTransaction) => Promise<T>,
    signal?: AbortSignal,
    readOnly = false,
  ): Promise<T> {
    const options = { ...(readOnly ? this.retry.read : this.retry.write), isolation, ...(signal ? { signal } : {}) };
    for (let raced = 0; ; raced++) {
      try {
        return await runOrmTransaction(this.pool, work, options);
      } catch (error) {
        if (sqlState(error) === '23505' && raced < 3) continue;
        throw translateDatabaseError(error);
      }
    }
  }
}

/**
 * One movement inside a transaction, as `decideMovement` decides it. Five round trips
 * (BEGIN, lock, insert, update, COMMIT); the journal is read only when the checks
 * fail (it might be a replay) or the id turns out to be taken.
 */
async function moveOne(tx: OrmTransaction, request: CheckedMovement): Promise<MovementOutcome> {
  const ids = [request.fromId, request.toId].filter((id) => id !== null).sort();
  const open = await tx
    .select({ id: accounts.id, balance: accounts.balance })
    .from(accounts)
    .where(and(inArray(accounts.id, ids), isNull(accounts.closedAt)))
    .orderBy(asc(accounts.id))
    .for('update');
  const locked = {
    fromBalance: open.find((a) => a.id === request.fromId)?.balance,
    toOpen: open.some((a) => a.id === request.toId),
  };
  // A statement of its own, after the locks: at READ COMMITTED it sees every commit before them.
  const journaled = async () => (await tx.select().from(transfers).where(eq(transfers.id, request.id)))[0] ?? null;
  let decision = decideMovement(request, locked, 'unread');
  if (decision.action === 'read the journal') decision = decideMovement(request, locked, await journaled());
  if (decision.action === 'journal') {
    const { kind, id, fromId, toId, amount } = request;
    const [transfer] = await tx
      .insert(transfers)
      .values({ id, kind, fromId, toId, amount })
      .onConflictDoNothing({ target: transfers.id })
      .returning();
    if (transfer) {
      await tx
        .update(accounts)
        .set({
          balance: sql`CASE WHEN ${accounts.id} = ${fromId} THEN ${accounts.balance} - ${amount} ELSE ${accounts.balance} + ${amount} END`,
        })
        .where(inArray(accounts.id, ids));
      return { transfer, replayed: false };
    }
    // The id was taken by a request that committed while this one waited on it.
    decision = decideMovement(request, locked, await journaled());
    if (decision.action === 'journal') throw new Error(`transfer ${request.id} conflicted but cannot be read back`);
  }
  if (decision.action === 'replay') return { transfer: decision.transfer, replayed: true };
  if (decision.action === 'refuse') throw decision.error;
  throw new Error(`transfer ${request.id}: the journal was read and still not decided`);
}
