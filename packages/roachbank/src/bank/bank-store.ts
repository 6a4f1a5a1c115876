import type pg from 'pg';
import type { RunTransactionOptions } from '../txn/run-transaction.js';
import type { Annotation } from './annotations.js';
import type { Account, Hold, JournalEntry, MoveAnswer, MovementResult } from './bank.js';
import type { GroupCommitOptions } from './group-commit.js';
import type { CheckedMovement } from './movement.js';

/** A checked request to open an account: its id, its opening balance, the id of the opening deposit, its currency, credit limit and annotation. */
export interface NewAccount extends Annotation {
  readonly id: string;
  readonly balance: bigint;
  readonly openingId: string;
  readonly currency: string;
  readonly creditLimit: bigint;
}

/** What `changeAccount` does to a locked account. */
export type AccountChange = 'close' | { readonly setCreditLimit: bigint };

/** Where a keyset page starts: the last row of the page before, as the cursor carries it. */
export interface PagePosition {
  readonly createdAt: string;
  readonly id: string;
}

/**
 * Where a page of one account's journal rows in chain order starts: the last row's time and
 * its number in the account's chain (null for a row the back-fill has not numbered yet).
 */
export interface ChainPosition {
  readonly createdAt: string;
  readonly sequence: string | null;
}

/** A row of a keyset page, with its `created_at` as the database's text (the cursor keeps microseconds). */
export type Positioned<T> = T & { readonly position: string };

/**
 * An atomic group's answer from its store: every item's, all applied in one commit,
 * or the first item refused (with its error) and nothing applied.
 */
export type GroupAnswer =
  | { readonly ok: true; readonly answers: MovementResult<MoveAnswer>[] }
  | { readonly ok: false; readonly index: number; readonly error: unknown };

/** How a store's operations retry: `write` for what changes data, `read` for what only reads (never ambiguous). */
export interface StoreRetry {
  readonly write: RunTransactionOptions;
  readonly read: RunTransactionOptions;
}

/**
 * How the bank reaches its tables: one store per data layer (`PgStore` on the
 * driver, `OrmStore` on Drizzle). The bank (`StoreBank`) owns everything else
 * (validation, idempotent replays, ambiguous commits, `transferMany`, group
 * commit), so a store holds only SQL and the retry core's calls. Every store
 * answers the same contract, translates the database's bank refusals
 * (`translateDatabaseError`), and runs each call as one retried transaction or
 * statement; resolving an ambiguous commit is the bank's job, not the store's.
 */
export interface BankStore {
  /** The pool the store runs on; `verify`'s one statement runs there for every store. */
  readonly pool: pg.Pool;
  /** How its calls retry; `verify` runs with its `read`. */
  readonly retry: StoreRetry;
  /**
   * Group commit, when the store takes batches of movements; without it, `moveBatch`
   * is only ever given one movement.
   */
  readonly groupCommit: GroupCommitOptions | undefined;
  /**
   * One attempt at these movements (they keep the batch rule, at most group
   * commit's `maxSize` of them), each answered as
   * `decideMovement` decides: a refusal or conflict is that item's result. A failure
   * of the attempt as a whole (connection lost, ambiguous commit, a statement the
   * database refused for one item's data) is thrown.
   */
  moveBatch(items: readonly CheckedMovement[], signal?: AbortSignal): Promise<MovementResult<MoveAnswer>[]>;
  /**
   * An atomic group in one transaction: the batches (each keeps the sequential batch
   * rule) one after another, each seeing the ones before; the first item refused rolls
   * everything back. A failure of the transaction as a whole is thrown.
   */
  moveGroup(batches: readonly (readonly CheckedMovement[])[], signal?: AbortSignal): Promise<GroupAnswer>;
  /**
   * Inserts the account and its opening deposit (when the balance is not 0) at once;
   * undefined, with nothing written, if the account id exists or the opening id is taken.
   */
  insertAccount(account: NewAccount): Promise<Account | undefined>;
  findAccount(id: string): Promise<Account | undefined>;
  /** The balances of these distinct ids in one statement; absent ids are left out. */
  readBalances(ids: readonly string[]): Promise<Map<string, bigint>>;
  /** Accounts oldest first (or newest first), `limit` of them after `after` in that order. */
  listAccounts(limit: number, after: PagePosition | null, newest: boolean): Promise<Positioned<Account>[]>;
  /** The accounts whose ids are from `lower` to `upper` by id, `limit` of them after the id `after`. */
  accountsByIdRange(lower: string, upper: string, limit: number, after: string | null): Promise<Positioned<Account>[]>;
  /** The accounts with this reference oldest first, `limit` of them after `after`. */
  accountsByReference(reference: string, limit: number, after: PagePosition | null): Promise<Positioned<Account>[]>;
  /** The journal rows with this reference oldest first, `limit` of them after `after`. */
  transfersByReference(reference: string, limit: number, after: PagePosition | null): Promise<Positioned<JournalEntry>[]>;
  /**
   * Locks the account and changes it as `deciding` says (closes it, or sets its credit
   * limit); `deciding` sees the locked row (undefined if there is none, `held` as of
   * now) and answers the account as it stands to change nothing, or throws.
   */
  changeAccount(id: string, deciding: (account: Account | undefined) => Account | AccountChange): Promise<Account>;
  /** The journal rows of these ids, as of now. */
  findTransfers(ids: readonly string[]): Promise<Map<string, JournalEntry>>;
  /** How much of a journal row has been reversed so far. */
  reversedOf(id: string): Promise<bigint>;
  /** The holds of these ids, as of now (status `expired` once their time passed). */
  findHolds(ids: readonly string[]): Promise<Map<string, Hold>>;
  /** An account's holds newest first, `limit` of them before `after`. */
  holdsOf(accountId: string, limit: number, after: PagePosition | null): Promise<Positioned<Hold>[]>;
  /** Marks up to `limit` expired holds `expired` and releases them from `held`; how many it released. */
  releaseExpired(limit: number): Promise<number>;
  /** An account's journal rows newest first (in chain order, the last first), `limit` of them before `after`. */
  history(accountId: string, limit: number, after: ChainPosition | null): Promise<Positioned<JournalEntry>[]>;
}

/** An atomic group's refusal, thrown inside its transaction so that it rolls back, and caught by its store as the group's answer. */
export class GroupRefused extends Error {
  readonly index: number;
  readonly error: unknown;
  constructor(index: number, error: unknown) {
    super('an item of the group was refused');
    this.index = index;
    this.error = error;
  }
}
