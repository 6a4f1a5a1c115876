import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { sqlState } from '../txn/classify-error.js';
import { type RunTransactionOptions, runSingleStatement, runTransaction } from '../txn/run-transaction.js';
import type { Account, Hold, HoldStatus, JournalEntry, MoveAnswer, MovementResult, PgStoreOptions } from './bank.js';
import { isDataRefusal, isReversalOvershoot, translateDatabaseError } from './bank-errors.js';
import {
  type BankStore,
  type GroupAnswer,
  GroupRefused,
  type NewAccount,
  type PagePosition,
  type Positioned,
  type StoreRetry,
} from './bank-store.js';
import type { GroupCommitOptions } from './group-commit.js';
import { type CheckedMovement, journalBody, type MovementKind } from './movement.js';
import { decideMovement } from './movement-decision.js';
import { moveBatchSql, moveSql, releaseExpiredSql, type StatementAnswerRow } from './movement-statements.js';
import { accountColumns, historySql, holdColumns, holdsSql, listAccountsSql, transferColumns } from './page-statements.js';
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
  RETURNING id, balance, held, created_at, closed_at
),
opening AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount)
  SELECT $3::UUID, 'deposit', NULL, id, balance FROM account WHERE balance > 0
  RETURNING id
)
SELECT id, balance, held, created_at, closed_at FROM account`;

interface AccountRow {
  id: string;
  balance: string;
  held: string;
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
  hold_id: string | null;
  reversal_of: string | null;
}
interface HoldRow {
  id: string;
  from_id: string;
  to_id: string | null;
  amount: string;
  status: HoldStatus;
  created_at: Date;
  expires_at: Date | null;
  posted_amount: string | null;
  transfer_id: string | null;
}
const toAccount = (row: AccountRow): Account => {
  const balance = BigInt(row.balance);
  const held = BigInt(row.held);
  return { id: row.id, balance, held, available: balance - held, createdAt: row.created_at, closedAt: row.closed_at };
};
const toTransfer = (row: TransferRow): JournalEntry => ({
  id: row.id,
  kind: row.kind,
  fromId: row.from_id,
  toId: row.to_id,
  amount: BigInt(row.amount),
  createdAt: row.created_at,
  holdId: row.hold_id,
  reversalOf: row.reversal_of,
});
const toHold = (row: HoldRow): Hold => ({
  id: row.id,
  fromId: row.from_id,
  toId: row.to_id,
  amount: BigInt(row.amount),
  status: row.status,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  postedAmount: row.posted_amount === null ? null : BigInt(row.posted_amount),
  transferId: row.transfer_id,
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
const batchMove = { name: 'roachbank_move_batch', text: moveBatchSql, planOnce: true };
const batchValues = (items: readonly CheckedMovement[]) => [
  items.map((m) => m.id),
  items.map((m) => m.fromId),
  items.map((m) => m.toId),
  items.map((m) => m.amount),
  items.map((m) => m.kind),
  items.map((m) => (m.kind === 'post' || m.kind === 'void' ? m.holdId : m.kind === 'reversal' ? m.reversalOf : null)),
  items.map((m) => (m.kind === 'hold' && m.expiresInMs !== null ? BigInt(m.expiresInMs) : null)),
];
/** A lone deposit, withdrawal or transfer is sent as the single statement: the same answer, for less work on the server. */
const isPlain = (m: CheckedMovement) => m.kind === 'deposit' || m.kind === 'withdrawal' || m.kind === 'transfer';

/** The row locks an atomic group takes before its first statement: every account it names, in id order. */
const lockGroupAccounts = {
  name: 'roachbank_lock_group',
  text: 'SELECT id FROM roachbank.accounts WHERE id = ANY($1::UUID[]) ORDER BY id FOR UPDATE',
};
const accountsOfGroup = (batches: readonly (readonly CheckedMovement[])[]) => [
  ...new Set(batches.flat().flatMap((m) => [m.fromId, m.toId].filter((id) => id !== null))),
];

/** How many times a batch is sent again when a reversal that committed meanwhile took what was left (23514). */
const reversalRaces = 3;

/** Reads the journal and holds for the answers, on the pool or inside a group's transaction. */
interface Reader {
  transfers(ids: readonly string[]): Promise<Map<string, JournalEntry>>;
  holds(ids: readonly string[]): Promise<Map<string, Hold>>;
  /** How much of each of these journal rows has been reversed (absent: nothing). */
  reversed(ids: readonly string[]): Promise<Map<string, bigint>>;
}

const transfersByIdSql = `SELECT ${transferColumns} FROM roachbank.transfers WHERE id = ANY($1::UUID[])`;
const holdsByIdSql = `SELECT ${holdColumns} FROM roachbank.holds WHERE id = ANY($1::UUID[])`;
const reversedByIdSql =
  'SELECT transfer_id::TEXT AS id, reversed FROM roachbank.reversed_amounts WHERE transfer_id = ANY($1::UUID[])';
const reversedMap = (rows: { id: string; reversed: string }[]) => new Map(rows.map((row) => [row.id, BigInt(row.reversed)]));

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
  readonly #reader: Reader = {
    transfers: (ids) => this.findTransfers(ids),
    holds: (ids) => this.findHolds(ids),
    reversed: async (ids) =>
      reversedMap(
        (
          await this.#single<{ id: string; reversed: string }>(this.retry.read, 'roachbank_reversed_by_id', reversedByIdSql, [
            ids,
          ])
        ).rows,
      ),
  };

  constructor(pool: pg.Pool, retry: StoreRetry, options: PgStoreOptions = {}) {
    this.pool = pool;
    this.retry = retry;
    this.#onBatch = options.onBatch;
    this.groupCommit = options.batch === false ? undefined : (options.batch ?? {});
  }

  async moveBatch(items: readonly CheckedMovement[], signal?: AbortSignal): Promise<MovementResult<MoveAnswer>[]> {
    const options = signal ? { ...this.retry.write, signal } : this.retry.write;
    for (let raced = 0; ; raced++) {
      try {
        const rows =
          items.length === 1 && isPlain(items[0]!)
            ? await runMovementStatement<StatementAnswerRow>(this.pool, singleMove, singleValues(items[0]!), options)
            : await runMovementStatement<StatementAnswerRow>(this.pool, batchMove, batchValues(items), options);
        if (this.groupCommit) this.#onBatch?.(items.length);
        return await answers(items, rows, this.#reader);
      } catch (error) {
        // A reversal committed after this statement's snapshot took what was left: the
        // next statement sees it, and answers REVERSAL_EXCEEDS_ORIGINAL from its lock.
        if (!isReversalOvershoot(causeOf(error)) || raced >= reversalRaces) throw error;
      }
    }
  }

  async moveGroup(batches: readonly (readonly CheckedMovement[])[], signal?: AbortSignal): Promise<GroupAnswer> {
    const options = { ...this.retry.write, isolation: 'read committed' as const, ...(signal ? { signal } : {}) };
    try {
      return await runTransaction(
        this.pool,
        async (client) => {
          const reader = clientReader(client);
          // Every account of the group first, in id order: its statements lock again what
          // this transaction holds, so groups never wait on one another in a cycle.
          await client.query({ ...lockGroupAccounts, values: [accountsOfGroup(batches)] });
          const all: MovementResult<MoveAnswer>[] = [];
          for (const batch of batches) {
            let rows: StatementAnswerRow[];
            try {
              ({ rows } = await client.query<StatementAnswerRow>({ ...batchMove, values: batchValues(batch) }));
            } catch (error) {
              // One item's data (an INT8 overflow): named when it is alone in its statement.
              if (batch.length === 1 && isDataRefusal(error)) throw new GroupRefused(all.length, translateDatabaseError(error));
              throw error;
            }
            all.push(...(await answers(batch, rows, reader)));
            const index = all.findIndex((answer) => !answer.ok);
            // Thrown, so the transaction rolls back; caught below as the group's answer.
            if (index >= 0) throw new GroupRefused(index, (all[index] as { error: unknown }).error);
          }
          return { ok: true as const, answers: all };
        },
        options,
      );
    } catch (error) {
      if (error instanceof GroupRefused) return { ok: false, index: error.index, error: error.error };
      throw translateDatabaseError(error);
    }
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
          const account = rows[0] && toAccount(rows[0]);
          const decision = closing(account);
          if (decision !== 'close') return decision;
          const closed = await client.query<{ closed_at: Date }>(
            'UPDATE roachbank.accounts SET closed_at = now() WHERE id = $1 RETURNING closed_at',
            [id],
          );
          return { ...account!, closedAt: closed.rows[0]!.closed_at };
        },
        this.retry.write,
      );
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  async findTransfers(ids: readonly string[]): Promise<Map<string, JournalEntry>> {
    const { rows } = await this.#single<TransferRow>(this.retry.read, 'roachbank_transfers_by_id', transfersByIdSql, [ids]);
    return new Map(rows.map((row) => [row.id, toTransfer(row)]));
  }

  async reversedOf(id: string): Promise<bigint> {
    return (await this.#reader.reversed([id])).get(id) ?? 0n;
  }

  async findHolds(ids: readonly string[]): Promise<Map<string, Hold>> {
    const { rows } = await this.#single<HoldRow>(this.retry.read, 'roachbank_holds_by_id', holdsByIdSql, [ids]);
    return new Map(rows.map((row) => [row.id, toHold(row)]));
  }

  async holdsOf(accountId: string, limit: number, after: PagePosition | null): Promise<Positioned<Hold>[]> {
    const { rows } = await this.#single<HoldRow & { position: string }>(
      this.retry.read,
      after ? 'roachbank_holds_after' : 'roachbank_holds',
      holdsSql(after !== null),
      after ? [accountId, limit, after.createdAt, after.id] : [accountId, limit],
    );
    return rows.map((row) => ({ ...toHold(row), position: row.position }));
  }

  async releaseExpired(limit: number): Promise<number> {
    const { rows } = await this.#single<{ released: string }>(this.retry.write, 'roachbank_release_expired', releaseExpiredSql, [
      limit,
    ]);
    return Number(rows[0]!.released);
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

function causeOf(error: unknown): unknown {
  return error instanceof RoachbankError && error.cause !== undefined ? error.cause : error;
}

function clientReader(client: pg.ClientBase): Reader {
  return {
    transfers: async (ids) => {
      const { rows } = await client.query<TransferRow>({
        name: 'roachbank_transfers_by_id',
        text: transfersByIdSql,
        values: [ids],
      });
      return new Map(rows.map((row) => [row.id, toTransfer(row)]));
    },
    holds: async (ids) => {
      const { rows } = await client.query<HoldRow>({ name: 'roachbank_holds_by_id', text: holdsByIdSql, values: [ids] });
      return new Map(rows.map((row) => [row.id, toHold(row)]));
    },
    reversed: async (ids) =>
      reversedMap(
        (
          await client.query<{ id: string; reversed: string }>({
            name: 'roachbank_reversed_by_id',
            text: reversedByIdSql,
            values: [ids],
          })
        ).rows,
      ),
  };
}

/**
 * Each movement's answer from its statement row. The ones the statement did not
 * apply (refused, already recorded, or raced by a twin) are decided with the
 * journal and the holds as read *after* the statement.
 *
 * Why after, in a statement of its own: at READ COMMITTED PostgreSQL takes one
 * snapshot per statement, and after waiting on a row lock it re-reads only the
 * locked rows (EvalPlanQual), not the journal. A twin request (another
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
 * read only confirms. What is left to reverse is read there too, so a reversal is
 * refused for its original before its funds, in the decision's order, even when the
 * statement's snapshot predates the first reversal's total. It costs one round trip
 * per kind of record read, on the refusal and replay paths only.
 */
async function answers(
  items: readonly CheckedMovement[],
  rows: readonly StatementAnswerRow[],
  reader: Reader,
): Promise<MovementResult<MoveAnswer>[]> {
  const unsettled = items.filter((_, i) => !rows[i]!.applied_at);
  let journal = new Map<string, JournalEntry>();
  let holds = new Map<string, Hold>();
  let reversed = new Map<string, bigint>();
  if (unsettled.length > 0) {
    try {
      const holdIds = unsettled.flatMap((m) =>
        m.kind === 'hold' ? [m.id] : m.kind === 'post' || m.kind === 'void' ? [m.holdId] : [],
      );
      const journalIds = unsettled.filter((m) => m.kind !== 'hold' && m.kind !== 'void').map((m) => m.id);
      if (journalIds.length > 0) journal = await reader.transfers(journalIds);
      if (holdIds.length > 0) holds = await reader.holds(holdIds);
      const originals = unsettled.flatMap((m) => (m.kind === 'reversal' ? [m.reversalOf] : []));
      if (originals.length > 0) reversed = await reader.reversed(originals);
      const postedElsewhere = unsettled.flatMap((m) => {
        const transferId = m.kind === 'post' && !journal.has(m.id) ? holds.get(m.holdId)?.transferId : undefined;
        return transferId ? [transferId] : [];
      });
      if (postedElsewhere.length > 0) for (const [id, row] of await reader.transfers(postedElsewhere)) journal.set(id, row);
    } catch (error) {
      // Without the journal's word no refusal is known to be true, and no replay is known either.
      return items.map((item, i) =>
        rows[i]!.applied_at ? appliedNow(item, rows[i]!.applied_at!) : { ok: false, error: unreadJournal(item, error) },
      );
    }
  }
  return items.map((item, i) => {
    const row = rows[i]!;
    if (row.applied_at) return appliedNow(item, row.applied_at);
    const locked = {
      fromAvailable: row.from_open && row.from_available !== null ? BigInt(row.from_available) : undefined,
      toOpen: row.to_open === true,
      reversible: item.kind === 'reversal' ? item.original.amount - (reversed.get(item.reversalOf) ?? 0n) : undefined,
    };
    const hold =
      item.kind === 'hold'
        ? holds.get(item.id)
        : item.kind === 'post' || item.kind === 'void'
          ? holds.get(item.holdId)
          : undefined;
    const seen = {
      journaled: journal.get(item.id) ?? null,
      hold: hold ?? null,
      posted: hold?.transferId ? journal.get(hold.transferId) : undefined,
    };
    const decision = decideMovement(item, locked, seen);
    if (decision.action === 'replay') return { ok: true, outcome: { transfer: decision.transfer, replayed: true } };
    if (decision.action === 'replay hold') return { ok: true, outcome: { hold: decision.hold, replayed: true } };
    if (decision.action === 'refuse') return { ok: false, error: decision.error };
    // The statement refused what the decision accepts, or met a committed row under the id
    // that a later read cannot find (the journal is append-only): a bug, never an answer.
    return {
      ok: false,
      error: new Error(
        `${item.kind} ${item.id} was not applied, yet nothing in the journal, its hold or its accounts refuses it`,
      ),
    };
  });
}

/**
 * The answer to a movement this statement did not apply when the journal could not
 * be read after it: this call wrote nothing for it, but another request with the same id (a
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

/** The answer to a movement this statement applied: its row (or hold) as asked, stamped by the database. */
export function appliedNow(item: CheckedMovement, at: Date): MovementResult<MoveAnswer> {
  switch (item.kind) {
    case 'hold': {
      const { id, fromId, toId, amount, expiresInMs } = item;
      const expiresAt = expiresInMs === null ? null : new Date(at.getTime() + expiresInMs);
      const hold: Hold = {
        id,
        fromId,
        toId,
        amount,
        status: 'pending',
        createdAt: at,
        expiresAt,
        postedAmount: null,
        transferId: null,
      };
      return { ok: true, outcome: { hold, replayed: false } };
    }
    case 'void':
      return { ok: true, outcome: { hold: { ...item.hold, status: 'voided' }, replayed: false } };
    default: {
      return { ok: true, outcome: { transfer: { id: item.id, ...journalBody(item), createdAt: at }, replayed: false } };
    }
  }
}
