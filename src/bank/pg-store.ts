import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { sqlState } from '../txn/classify-error.js';
import { type RunTransactionOptions, runSingleStatement, runTransaction } from '../txn/run-transaction.js';
import type { Account, JournalEntry, MovementResult, PgStoreOptions } from './bank.js';
import { translateDatabaseError } from './bank-errors.js';
import type { BankStore, NewAccount, PagePosition, Positioned, StoreRetry } from './bank-store.js';
import type { GroupCommitOptions } from './group-commit.js';
import type { CheckedMovement, MovementKind } from './movement.js';
import { decideMovement } from './movement-decision.js';
import { moveBatchSql, moveSql, type StatementAnswerRow } from './movement-statements.js';
import { accountColumns, historySql, listAccountsSql, transferColumns } from './page-statements.js';
import { runMovementStatement } from './run-movement-statement.js';

// An account and its opening balance (journaled as a deposit) in one statement;
// a second submission with the same ids (after an ambiguous commit) changes nothing.
// An opening id already taken by another movement creates nothing (the bank answers
// IDEMPOTENCY_CONFLICT); one taken after this statement's snapshot fails it with 23505.
const createAccountSql = `
WITH account AS (
  INSERT INTO roachbank.accounts (id, balance)
  SELECT $1::UUID, $2::INT8
  WHERE $2::INT8 = 0 OR NOT EXISTS (SELECT 1 FROM roachbank.transfers WHERE id = $3::UUID)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, balance, created_at, closed_at
),
opening AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount)
  SELECT $3::UUID, 'deposit', NULL, id, balance FROM account WHERE balance > 0
  RETURNING id
)
SELECT id, balance, created_at, closed_at FROM account`;

interface AccountRow {
  id: string;
  balance: string;
  created_at: Date;
  closed_at: Date | null;
}
interface TransferRow {
  id: string;
  kind: MovementKind;
  from_id: string | null;
  to_id: string | null;
  amount: string;
  created_at: Date;
}
const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  balance: BigInt(row.balance),
  createdAt: row.created_at,
  closedAt: row.closed_at,
});
const toTransfer = (row: TransferRow): JournalEntry => ({
  id: row.id,
  kind: row.kind,
  fromId: row.from_id,
  toId: row.to_id,
  amount: BigInt(row.amount),
  createdAt: row.created_at,
});

const singleMove = { name: 'roachbank_move', text: moveSql };
const singleValues = (m: CheckedMovement) => [
  m.id,
  m.fromId,
  m.toId,
  m.amount,
  [m.fromId, m.toId].filter((id) => id !== null).length,
  m.kind,
];
// A batch of one is sent as the single statement: the same answer, for less work on the server.
const batchMove = { name: 'roachbank_move_batch', text: moveBatchSql, planOnce: true };
const batchValues = (items: readonly CheckedMovement[]) => [
  items.map((m) => m.id),
  items.map((m) => m.fromId),
  items.map((m) => m.toId),
  items.map((m) => m.amount),
  items.map((m) => m.kind),
];

/**
 * The bank's tables on the pg driver. Money moves in batches (DESIGN §7): the
 * bank's group commit coalesces concurrent movements into one statement and one
 * commit (`moveBatchSql`); with `batch: false` each movement is its own statement
 * (`moveSql`). Either way a statement is one round trip through
 * `runSingleStatement`; closing an account is the one multi-statement transaction.
 *
 * @example
 * const bank = new StoreBank(new PgStore(pool, storeRetry(options), options), options);
 */
export class PgStore implements BankStore {
  readonly pool: pg.Pool;
  readonly groupCommit: GroupCommitOptions | undefined;
  readonly retry: StoreRetry;
  readonly #onBatch: PgStoreOptions['onBatch'];

  constructor(pool: pg.Pool, retry: StoreRetry, options: PgStoreOptions = {}) {
    this.pool = pool;
    this.retry = retry;
    this.#onBatch = options.onBatch;
    this.groupCommit = options.batch === false ? undefined : (options.batch ?? {});
  }

  async moveBatch(items: readonly CheckedMovement[], signal?: AbortSignal): Promise<MovementResult[]> {
    const options = signal ? { ...this.retry.write, signal } : this.retry.write;
    const rows =
      items.length === 1
        ? await runMovementStatement<StatementAnswerRow>(this.pool, singleMove, singleValues(items[0]!), options)
        : await runMovementStatement<StatementAnswerRow>(this.pool, batchMove, batchValues(items), options);
    if (this.groupCommit) this.#onBatch?.(items.length);
    return this.#answers(items, rows);
  }

  /**
   * Each movement's answer from its statement row. The ones the statement did not
   * journal (refused, already journaled, or raced by a twin) are decided with the
   * journal as read *after* the statement, all in one read.
   *
   * Why after, in a statement of its own: at READ COMMITTED PostgreSQL takes one
   * snapshot per statement, and after waiting on a row lock it re-reads only the
   * locked account rows (EvalPlanQual), not the journal. A twin request (another
   * process, or this bank's own earlier attempt that committed late) holds those
   * locks until it commits: our statement then sees the balance it drained but not
   * the journal row it wrote, and would refuse a movement that happened. A later
   * statement's snapshot includes everything that committed before our locks were
   * granted, so a refusal it confirms is true at a moment after the locks were taken.
   * On CockroachDB a statement that meets a lock conflict is retried with a new
   * snapshot and READ COMMITTED "prevents anomalies within single statements"
   * (https://www.cockroachlabs.com/docs/v24.1/read-committed;
   * docs/RFCS/20230122_read_committed_isolation.md, per-statement read snapshots),
   * and at SERIALIZABLE the statement's reads are consistent anyway: there the later
   * read only confirms. It costs one round trip, on the refusal and replay paths only.
   */
  async #answers(items: readonly CheckedMovement[], rows: readonly StatementAnswerRow[]): Promise<MovementResult[]> {
    const unsettled = items.filter((_, i) => !rows[i]!.created_at).map((item) => item.id);
    let journal = new Map<string, JournalEntry>();
    if (unsettled.length > 0) {
      try {
        journal = await this.findTransfers(unsettled);
      } catch (error) {
        // Without the journal's word no refusal is known to be true, and no replay is known either.
        return items.map((item, i) =>
          rows[i]!.created_at ? journaledNow(item, rows[i]!.created_at!) : { ok: false, error: unreadJournal(item, error) },
        );
      }
    }
    return items.map((item, i) => {
      const row = rows[i]!;
      if (row.created_at) return journaledNow(item, row.created_at);
      const locked = {
        fromBalance: row.from_balance === null ? undefined : BigInt(row.from_balance),
        toOpen: row.to_open === true,
      };
      const decision = decideMovement(item, locked, journal.get(item.id) ?? null);
      if (decision.action === 'replay') return { ok: true, outcome: { transfer: decision.transfer, replayed: true } };
      if (decision.action === 'refuse') return { ok: false, error: decision.error };
      // The statement refused what the decision accepts, or met a committed row under the id
      // that a later read cannot find (the journal is append-only): a bug, never an answer.
      return {
        ok: false,
        error: new Error(`transfer ${item.id} was not journaled, yet nothing in the journal or its accounts refuses it`),
      };
    });
  }

  async insertAccount({ id, balance, openingId }: NewAccount): Promise<Account | undefined> {
    for (let raced = 0; ; raced++) {
      try {
        const { rows } = await this.#single<AccountRow>(this.retry.write, 'roachbank_create_account', createAccountSql, [
          id,
          balance,
          openingId,
        ]);
        return rows[0] ? toAccount(rows[0]) : undefined;
      } catch (error) {
        // The opening id was journaled after this statement's snapshot: once more, it sees it.
        if (sqlState(error) !== '23505' || raced >= 1) throw error;
      }
    }
  }

  async findAccount(id: string): Promise<Account | undefined> {
    const { rows } = await this.#single<AccountRow>(
      this.retry.read,
      'roachbank_get_account',
      `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1::UUID`,
      [id],
    );
    return rows[0] && toAccount(rows[0]);
  }

  async readBalances(ids: readonly string[]): Promise<Map<string, bigint>> {
    const { rows } = await this.#single<{ id: string; balance: string }>(
      this.retry.read,
      'roachbank_balances',
      'SELECT id::TEXT AS id, balance FROM roachbank.accounts WHERE id = ANY($1::UUID[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, BigInt(row.balance)]));
  }

  async listAccounts(limit: number, after: PagePosition | null): Promise<Positioned<Account>[]> {
    // A first page and a next page are two statements, so each keeps its index range
    // in a generic plan (an `$1 IS NULL OR …` filter would scan from the start).
    const { rows } = await this.#single<AccountRow & { position: string }>(
      this.retry.read,
      after ? 'roachbank_list_accounts_after' : 'roachbank_list_accounts',
      listAccountsSql(after !== null),
      after ? [limit, after.createdAt, after.id] : [limit],
    );
    return rows.map((row) => ({ ...toAccount(row), position: row.position }));
  }

  async closeAccount(id: string, closing: (account: Account | undefined) => Account | 'close'): Promise<Account> {
    try {
      return await runTransaction(
        this.pool,
        async (client) => {
          const { rows } = await client.query<AccountRow>(
            `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1 FOR UPDATE`,
            [id],
          );
          const decision = closing(rows[0] && toAccount(rows[0]));
          if (decision !== 'close') return decision;
          const closed = await client.query<AccountRow>(
            `UPDATE roachbank.accounts SET closed_at = now() WHERE id = $1 RETURNING ${accountColumns}`,
            [id],
          );
          return toAccount(closed.rows[0]!);
        },
        this.retry.write,
      );
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  async findTransfers(ids: readonly string[]): Promise<Map<string, JournalEntry>> {
    const { rows } = await this.#single<TransferRow>(
      this.retry.read,
      'roachbank_transfers_by_id',
      `SELECT ${transferColumns} FROM roachbank.transfers WHERE id = ANY($1::UUID[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, toTransfer(row)]));
  }

  async history(accountId: string, limit: number, after: PagePosition | null): Promise<Positioned<JournalEntry>[]> {
    const { rows } = await this.#single<TransferRow & { position: string }>(
      this.retry.read,
      after ? 'roachbank_history_after' : 'roachbank_history',
      historySql(after !== null),
      after ? [accountId, limit, after.createdAt, after.id] : [accountId, limit],
    );
    return rows.map((row) => ({ ...toTransfer(row), position: row.position }));
  }

  /** One prepared statement through the retry core, the database's bank refusals translated. */
  async #single<R extends pg.QueryResultRow>(
    options: RunTransactionOptions,
    name: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await runSingleStatement(this.pool, (client) => client.query<R>({ name, text, values }), options);
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }
}

/**
 * The answer to a movement this statement did not journal when the journal could not
 * be read after it: this call wrote nothing, but another request with the same id (a
 * twin, or an earlier attempt of this one) may have. Not a refusal, and not definite.
 */
function unreadJournal(item: CheckedMovement, cause: unknown): RoachbankError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RoachbankError(
    'DATABASE_UNAVAILABLE',
    `the journal could not be read to answer ${item.kind} ${item.id} (${why}): this call wrote nothing for it; repeat the same id to learn whether another request with it did`,
    { cause },
  );
}

/** The answer to a movement this statement journaled: its body as asked, stamped by the database. */
function journaledNow(item: CheckedMovement, createdAt: Date): MovementResult {
  const { id, kind, fromId, toId, amount } = item;
  return { ok: true, outcome: { transfer: { id, kind, fromId, toId, amount, createdAt }, replayed: false } };
}
