import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { RoachbankError } from '../errors/roachbank-error.js';
import { type OrmTransaction, runOrmTransaction } from '../orm/run-orm-transaction.js';
import { sqlState } from '../txn/classify-error.js';
import type { IsolationLevel } from '../txn/run-transaction.js';
import type { Account, Page, PageRequest, Transfer, TransferOutcome } from './bank.js';
import { accountNotFound, insufficientFunds, translateDatabaseError } from './bank-errors.js';
import { parseId } from './ids.js';
import { JournalBank, type NewAccount } from './journal-bank.js';
import { type Movement, replayOf } from './movement.js';
import { pageFrom, pageOf } from './page-cursor.js';
import { accountsTable as accounts, transfersTable as transfers } from './product-schema.js';

const position = (column: typeof accounts.createdAt | typeof transfers.createdAt) => sql<string>`${column}::TEXT`;

/**
 * The bank on Drizzle ORM: each operation is a read-check-write transaction in
 * `runOrmTransaction`. Money movements lock the account rows (`FOR UPDATE`, in
 * id order) before they read the balance they check, so nobody can change it
 * until they commit: that makes them correct at READ COMMITTED, where
 * PostgreSQL waits on a contended row instead of failing with 40001; every
 * other operation runs at SERIALIZABLE.
 * Same contract, same errors and the same `verify` SQL as `PgBank`.
 *
 * @example
 * const bank = new OrmBank(pool);
 * const account = await bank.createAccount({ balance: 500n });
 */
export class OrmBank extends JournalBank {
  protected async insertAccount({ id, balance, openingId }: NewAccount): Promise<Account | undefined> {
    return this.#run('serializable', async (tx) => {
      const [existing] = await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.id, id));
      if (existing) return undefined;
      if (balance > 0n) {
        const [taken] = await tx.select({ id: transfers.id }).from(transfers).where(eq(transfers.id, openingId));
        if (taken) return undefined; // the bank answers IDEMPOTENCY_CONFLICT
      }
      const [account] = await tx.insert(accounts).values({ id, balance }).returning();
      if (balance > 0n) await tx.insert(transfers).values({ id: openingId, fromId: null, toId: id, amount: balance });
      return account!;
    });
  }

  async getAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    const [account] = await this.#read((tx) => tx.select().from(accounts).where(eq(accounts.id, accountId)));
    if (!account) throw accountNotFound(accountId);
    return account;
  }

  protected async readBalances(ids: readonly string[]): Promise<Map<string, bigint>> {
    const rows = await this.#read((tx) =>
      tx
        .select({ id: accounts.id, balance: accounts.balance })
        .from(accounts)
        .where(inArray(accounts.id, [...ids])),
    );
    return new Map(rows.map((row) => [row.id, row.balance]));
  }

  async listAccounts(request?: PageRequest): Promise<Page<Account>> {
    const { limit, after } = pageOf(request);
    const rows = await this.#read((tx) =>
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
        .limit(limit + 1),
    );
    return pageFrom(rows, limit, ({ position: _, ...account }) => account);
  }

  async closeAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    return this.#run('serializable', async (tx) => {
      const [account] = await tx.select().from(accounts).where(eq(accounts.id, accountId)).for('update');
      if (!account) throw accountNotFound(accountId);
      if (account.closedAt) return account;
      if (account.balance !== 0n) {
        throw new RoachbankError('ACCOUNT_NOT_EMPTY', `account ${accountId} holds ${account.balance}: empty it before closing`);
      }
      const [closed] = await tx.update(accounts).set({ closedAt: sql`now()` }).where(eq(accounts.id, accountId)).returning();
      return closed!;
    });
  }

  async getTransfer(id: string): Promise<Transfer> {
    const transferId = parseId(id, 'transfer id');
    const [transfer] = await this.#read((tx) => tx.select().from(transfers).where(eq(transfers.id, transferId)));
    if (!transfer) throw new RoachbankError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
    return transfer;
  }

  async history(accountId: string, request?: PageRequest): Promise<Page<Transfer>> {
    const id = parseId(accountId, 'account id');
    const { limit, after } = pageOf(request);
    // Two ordered, limited branches (one per account index), merged: a page reads
    // at most twice its size, as PgBank's history does.
    const before = after
      ? sql`(${transfers.createdAt}, ${transfers.id}) < (${after.createdAt}::TIMESTAMPTZ, ${after.id}::UUID)`
      : undefined;
    const rows = await this.#read((tx) => {
      const branch = (side: typeof transfers.fromId | typeof transfers.toId) =>
        tx
          .select({
            id: transfers.id,
            fromId: transfers.fromId,
            toId: transfers.toId,
            amount: transfers.amount,
            createdAt: transfers.createdAt,
            position: position(transfers.createdAt).as('position'),
          })
          .from(transfers)
          .where(and(eq(side, id), before))
          .orderBy(desc(transfers.createdAt), desc(transfers.id))
          .limit(limit + 1);
      return unionAll(branch(transfers.fromId), branch(transfers.toId))
        .orderBy(desc(transfers.createdAt), desc(transfers.id))
        .limit(limit + 1);
    });
    if (rows.length === 0 && !after) await this.getAccount(id);
    return pageFrom(rows, limit, ({ position: _, ...transfer }) => transfer);
  }

  protected move(request: Movement, signal?: AbortSignal): Promise<TransferOutcome> {
    const ids = [request.fromId, request.toId].filter((id) => id !== null).sort();
    // Five round trips (BEGIN, lock, insert, update, COMMIT); the journal is read only
    // when the id turns out to exist, or when the checks fail and it might be a replay.
    return this.#run(
      'read committed',
      async (tx) => {
        const replay = async () => {
          const [existing] = await tx.select().from(transfers).where(eq(transfers.id, request.id));
          return existing ? { transfer: replayOf(existing, request), replayed: true } : undefined;
        };
        const open = await tx
          .select({ id: accounts.id, balance: accounts.balance })
          .from(accounts)
          .where(and(inArray(accounts.id, ids), isNull(accounts.closedAt)))
          .orderBy(asc(accounts.id))
          .for('update');
        const missing = ids.find((id) => !open.some((a) => a.id === id));
        const source = open.find((a) => a.id === request.fromId);
        if (missing !== undefined || (source && source.balance < request.amount)) {
          const replayed = await replay();
          if (replayed) return replayed;
          if (missing !== undefined) throw accountNotFound(missing, 'open');
          throw insufficientFunds(source!.id, source!.balance, request.amount);
        }
        const [transfer] = await tx
          .insert(transfers)
          .values({ id: request.id, fromId: request.fromId, toId: request.toId, amount: request.amount })
          .onConflictDoNothing({ target: transfers.id })
          .returning();
        if (!transfer) {
          // The id was taken by a request that committed while this one waited on it.
          const replayed = await replay();
          if (!replayed) throw new Error(`transfer ${request.id} conflicted but cannot be read back`);
          return replayed;
        }
        await tx
          .update(accounts)
          .set({
            balance: sql`CASE WHEN ${accounts.id} = ${request.fromId} THEN ${accounts.balance} - ${request.amount} ELSE ${accounts.balance} + ${request.amount} END`,
          })
          .where(inArray(accounts.id, ids));
        return { transfer, replayed: false };
      },
      signal,
    );
  }

  /** A transaction that only reads (`READ ONLY`): a lost connection is retried, never ambiguous. */
  #read<T>(work: (tx: OrmTransaction) => Promise<T>): Promise<T> {
    return this.#run('serializable', work, undefined, true);
  }

  /**
   * One ORM transaction, with the bank's error meanings and ambiguity resolution.
   * A duplicate key (23505) means a concurrent request creating the same account id
   * committed first (movements use ON CONFLICT instead): running again finds it.
   */
  async #run<T>(
    isolation: IsolationLevel,
    work: (tx: OrmTransaction) => Promise<T>,
    signal?: AbortSignal,
    readOnly = false,
  ): Promise<T> {
    const options = { ...(readOnly ? this.read : this.retry), isolation, ...(signal ? { signal } : {}) };
    for (let raced = 0; ; raced++) {
      try {
        return await this.resolving(() => runOrmTransaction(this.pool, work, options));
      } catch (error) {
        if (sqlState(error) === '23505' && raced < 3) continue;
        throw translateDatabaseError(error);
      }
    }
  }
}
