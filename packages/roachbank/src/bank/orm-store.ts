import { and, asc, between, desc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { type OrmTransaction, runOrmTransaction } from '../orm/run-orm-transaction.js';
import { sqlState } from '../txn/classify-error.js';
import type { IsolationLevel } from '../txn/run-transaction.js';
import type { Account, Hold, JournalEntry, MoveAnswer, MovementResult } from './bank.js';
import { isDataRefusal, isReversalOvershoot, translateDatabaseError } from './bank-errors.js';
import {
  type AccountChange,
  type BankStore,
  type ChainPosition,
  type GroupAnswer,
  GroupRefused,
  type NewAccount,
  type PagePosition,
  type Positioned,
  type StoreRetry,
} from './bank-store.js';
import type { CheckedMovement } from './movement.js';
import { accountFields, holdFields, position, toAccount, transferFields } from './orm-fields.js';
import { expireHolds, lockOpenOrClosed, moveOne } from './orm-movement.js';
import {
  accountsTable as accounts,
  holdsTable as holds,
  reversedAmountsTable as reversedAmounts,
  transfersTable as transfers,
} from './product-schema.js';
import { isDefiniteAnswer } from './resolve-ambiguity.js';

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

  async moveBatch(items: readonly CheckedMovement[], signal?: AbortSignal): Promise<MovementResult<MoveAnswer>[]> {
    if (items.length !== 1) throw new Error(`the orm store moves one movement at a time, not ${items.length}`);
    try {
      return [{ ok: true, outcome: await this.#run('read committed', (tx) => moveOne(tx, items[0]!), signal) }];
    } catch (error) {
      if (isDefiniteAnswer(error)) return [{ ok: false, error }];
      throw error;
    }
  }

  async moveGroup(batches: readonly (readonly CheckedMovement[])[], signal?: AbortSignal): Promise<GroupAnswer> {
    const items = batches.flat();
    const ids = [...new Set(items.flatMap((m) => [m.fromId, m.toId].filter((id) => id !== null)))].sort();
    try {
      return await this.#run(
        'read committed',
        async (tx) => {
          // Every account of the group first, in id order, so groups never wait on one another in a cycle.
          await lockOpenOrClosed(tx, ids);
          const answers: MovementResult<MoveAnswer>[] = [];
          for (const [index, item] of items.entries()) {
            try {
              answers.push({ ok: true, outcome: await moveOne(tx, item) });
            } catch (error) {
              // Thrown on, so the transaction rolls back; caught below as the group's answer.
              if (isDefiniteAnswer(error)) throw new GroupRefused(index, error);
              if (isDataRefusal(error)) throw new GroupRefused(index, translateDatabaseError(error));
              throw error;
            }
          }
          return { ok: true as const, answers };
        },
        signal,
      );
    } catch (error) {
      if (error instanceof GroupRefused) return { ok: false, index: error.index, error: error.error };
      throw error;
    }
  }

  async insertAccount({
    id,
    balance,
    openingId,
    currency,
    creditLimit,
    reference,
    metadata,
  }: NewAccount): Promise<Account | undefined> {
    // READ COMMITTED and ON CONFLICT, as PgStore's one statement does it: reading first
    // at SERIALIZABLE made concurrent openings abort one another as pivots (40001).
    try {
      return await this.#run('read committed', async (tx) => {
        const [account] = await tx
          .insert(accounts)
          .values({
            id,
            balance,
            currency,
            creditLimit,
            reference,
            metadata,
            // Its chain starts here: the opening deposit, if any, is its row number 1.
            sequence: balance > 0n ? 1 : 0,
            movedAt: balance > 0n ? sql`now()` : null,
          })
          .onConflictDoNothing({ target: accounts.id })
          .returning();
        if (!account) return undefined;
        if (balance > 0n) {
          const [opening] = await tx
            .insert(transfers)
            .values({
              id: openingId,
              kind: 'deposit',
              fromId: null,
              toId: id,
              amount: balance,
              currency,
              toSequence: 1,
              toBalanceAfter: balance,
            })
            .onConflictDoNothing({ target: transfers.id })
            .returning({ id: transfers.id });
          // Taken by another movement: the account is rolled back, and the bank answers IDEMPOTENCY_CONFLICT.
          if (!opening) throw new OpeningTaken();
        }
        const { held: _, sequence: _sequence, movedAt: _movedAt, ...opened } = account;
        return { ...opened, held: 0n, available: balance };
      });
    } catch (error) {
      if (error instanceof OpeningTaken) return undefined;
      throw error;
    }
  }

  async findAccount(id: string): Promise<Account | undefined> {
    const [account] = await this.#read((tx) => tx.select(accountFields).from(accounts).where(eq(accounts.id, id)));
    return account && toAccount(account);
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

  async listAccounts(limit: number, after: PagePosition | null, newest: boolean): Promise<Positioned<Account>[]> {
    const order = newest ? desc : asc;
    const rows = await this.#read((tx) =>
      tx
        .select({ ...accountFields, position: position(accounts.createdAt) })
        .from(accounts)
        .where(after ? (newest ? earlierThan(accounts, after) : laterThan(accounts, after)) : undefined)
        .orderBy(order(accounts.createdAt), order(accounts.id))
        .limit(limit),
    );
    return rows.map(({ position, ...row }) => ({ ...toAccount(row), position }));
  }

  async accountsByIdRange(lower: string, upper: string, limit: number, after: string | null): Promise<Positioned<Account>[]> {
    const rows = await this.#read((tx) =>
      tx
        .select({ ...accountFields, position: position(accounts.createdAt) })
        .from(accounts)
        .where(and(between(accounts.id, lower, upper), after ? gt(accounts.id, after) : undefined))
        .orderBy(asc(accounts.id))
        .limit(limit),
    );
    return rows.map(({ position, ...row }) => ({ ...toAccount(row), position }));
  }

  async accountsByReference(reference: string, limit: number, after: PagePosition | null): Promise<Positioned<Account>[]> {
    const rows = await this.#read((tx) =>
      tx
        .select({ ...accountFields, position: position(accounts.createdAt) })
        .from(accounts)
        .where(and(eq(accounts.reference, reference), after ? laterThan(accounts, after) : undefined))
        .orderBy(asc(accounts.createdAt), asc(accounts.id))
        .limit(limit),
    );
    return rows.map(({ position, ...row }) => ({ ...toAccount(row), position }));
  }

  transfersByReference(reference: string, limit: number, after: PagePosition | null): Promise<Positioned<JournalEntry>[]> {
    return this.#read((tx) =>
      tx
        .select({ ...transferFields, position: position(transfers.createdAt) })
        .from(transfers)
        .where(and(eq(transfers.reference, reference), after ? laterThan(transfers, after) : undefined))
        .orderBy(asc(transfers.createdAt), asc(transfers.id))
        .limit(limit),
    );
  }

  changeAccount(id: string, deciding: (account: Account | undefined) => Account | AccountChange): Promise<Account> {
    return this.#run('serializable', async (tx) => {
      const [row] = await tx.select(accountFields).from(accounts).where(eq(accounts.id, id)).for('update');
      const account = row && toAccount(row);
      const decision = deciding(account);
      if (decision === 'close') {
        const [closed] = await tx
          .update(accounts)
          .set({ closedAt: sql`now()` })
          .where(eq(accounts.id, id))
          .returning({ closedAt: accounts.closedAt });
        return { ...account!, closedAt: closed!.closedAt };
      }
      if ('setCreditLimit' in decision) {
        await tx.update(accounts).set({ creditLimit: decision.setCreditLimit }).where(eq(accounts.id, id));
        return { ...account!, creditLimit: decision.setCreditLimit };
      }
      return decision;
    });
  }

  async findTransfers(ids: readonly string[]): Promise<Map<string, JournalEntry>> {
    const rows = await this.#read((tx) =>
      tx
        .select(transferFields)
        .from(transfers)
        .where(inArray(transfers.id, [...ids])),
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  async reversedOf(id: string): Promise<bigint> {
    const [row] = await this.#read((tx) =>
      tx.select({ reversed: reversedAmounts.reversed }).from(reversedAmounts).where(eq(reversedAmounts.transferId, id)),
    );
    return row?.reversed ?? 0n;
  }

  async findHolds(ids: readonly string[]): Promise<Map<string, Hold>> {
    const rows = await this.#read((tx) =>
      tx
        .select(holdFields)
        .from(holds)
        .where(inArray(holds.id, [...ids])),
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  holdsOf(accountId: string, limit: number, after: PagePosition | null): Promise<Positioned<Hold>[]> {
    const before = after
      ? sql`(${holds.createdAt}, ${holds.id}) < (${after.createdAt}::TIMESTAMPTZ, ${after.id}::UUID)`
      : undefined;
    return this.#read((tx) =>
      tx
        .select({ ...holdFields, position: position(holds.createdAt) })
        .from(holds)
        .where(and(eq(holds.fromId, accountId), before))
        .orderBy(desc(holds.createdAt), desc(holds.id))
        .limit(limit),
    );
  }

  releaseExpired(limit: number): Promise<number> {
    return this.#run('read committed', async (tx) => {
      const due = await tx
        .select({ id: holds.id, fromId: holds.fromId })
        .from(holds)
        .where(and(eq(holds.status, 'pending'), lte(holds.expiresAt, sql`now()`)))
        .orderBy(asc(holds.expiresAt))
        .limit(limit);
      if (due.length === 0) return 0;
      // Accounts first, in id order, as every movement locks; then each hold, re-checked under its lock.
      await lockOpenOrClosed(tx, [...new Set(due.map((h) => h.fromId))]);
      const released = await expireHolds(
        tx,
        due.map((h) => h.id),
      );
      const byAccount = new Map<string, bigint>();
      for (const { fromId, amount } of released) byAccount.set(fromId, (byAccount.get(fromId) ?? 0n) + amount);
      for (const [id, amount] of byAccount) {
        await tx
          .update(accounts)
          .set({ held: sql`${accounts.held} - ${amount}` })
          .where(eq(accounts.id, id));
      }
      return released.length;
    });
  }

  history(accountId: string, limit: number, after: ChainPosition | null): Promise<Positioned<JournalEntry>[]> {
    // Two ordered, limited branches (one per account index, in chain order: migration
    // 0010), merged: a page reads at most twice its size, as PgStore's history does.
    return this.#read(async (tx) => {
      const branch = (side: 'from' | 'to') => {
        const [account, sequence] =
          side === 'from' ? [transfers.fromId, transfers.fromSequence] : [transfers.toId, transfers.toSequence];
        const before = after
          ? sql`(${transfers.createdAt}, ${sequence}) < (${after.createdAt}::TIMESTAMPTZ, ${after.sequence}::INT8)`
          : undefined;
        return tx
          .select({
            ...transferFields,
            position: position(transfers.createdAt).as('position'),
            chain: sql`${sequence}`.as('chain_sequence'),
          })
          .from(transfers)
          .where(and(eq(account, accountId), before))
          .orderBy(desc(transfers.createdAt), desc(sequence))
          .limit(limit);
      };
      const rows = await unionAll(branch('from'), branch('to'))
        .orderBy(desc(transfers.createdAt), desc(sql.raw('chain_sequence')))
        .limit(limit);
      return rows.map(({ chain: _, ...row }) => row);
    });
  }

  /** A transaction that only reads (`READ ONLY`): a lost connection is retried, never ambiguous. */
  #read<T>(work: (tx: OrmTransaction) => Promise<T>): Promise<T> {
    return this.#run('serializable', work, undefined, true);
  }

  /**
   * One ORM transaction, with the bank's error meanings. A duplicate key (23505)
   * means a concurrent request creating the same account id committed first
   * (movements use ON CONFLICT instead), and a reversed total past its original (23514)
   * a reversal that committed after this one read it: running again finds either.
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
        if ((sqlState(error) === '23505' || isReversalOvershoot(error)) && raced < 3) continue;
        throw translateDatabaseError(error);
      }
    }
  }
}

/** Rows after a cursor's (created_at, id), as a keyset page oldest first reads them. */
function laterThan(table: typeof accounts | typeof transfers, after: PagePosition) {
  return sql`(${table.createdAt}, ${table.id}) > (${after.createdAt}::TIMESTAMPTZ, ${after.id}::UUID)`;
}

function earlierThan(table: typeof accounts, before: PagePosition) {
  return sql`(${table.createdAt}, ${table.id}) < (${before.createdAt}::TIMESTAMPTZ, ${before.id}::UUID)`;
}

/** Thrown inside an opening whose deposit id another movement holds, so that the account rolls back with it. */
class OpeningTaken extends Error {}
