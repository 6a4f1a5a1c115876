import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { sqlState } from '../txn/classify-error.js';
import { type RunTransactionOptions, runSingleStatement, runTransaction } from '../txn/run-transaction.js';
import { metadataText } from './annotations.js';
import type { Account, Hold, JournalEntry, MoveAnswer, MovementResult, PgStoreOptions } from './bank.js';
import { isDataRefusal, isJournalRace, isReversalOvershoot, translateDatabaseError } from './bank-errors.js';
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
import type { GroupCommitOptions } from './group-commit.js';
import type { CheckedMovement } from './movement.js';
import { moveBatchSql, movePlainBatchSql, moveSql, releaseExpiredSql, type StatementAnswerRow } from './movement-statements.js';
import {
  accountColumns,
  accountsByIdRangeSql,
  accountsByReferenceSql,
  historySql,
  holdsSql,
  listAccountsSql,
  transfersByReferenceSql,
} from './page-statements.js';
import {
  type AccountRow,
  type HoldRow,
  holdsByIdSql,
  reversedByIdSql,
  reversedMap,
  type TransferRow,
  toAccount,
  toHold,
  toTransfer,
  transfersByIdSql,
} from './pg-rows.js';
import { planOnceOn, runMovementStatement } from './run-movement-statement.js';
import { answers, clientReader, type Reader } from './statement-answers.js';

// An account and its opening balance (journaled as a deposit) in one statement;
// a second submission with the same ids (after an ambiguous commit) changes nothing.
// An opening id already taken by another movement creates nothing (the bank answers
// IDEMPOTENCY_CONFLICT); one taken after this statement's snapshot fails it with 23505.
// $6 and $7 are the account's reference and metadata; its opening deposit carries none.
// Its chain starts here: the opening deposit, if any, is its row number 1.
const createAccountSql = `
WITH account AS (
  INSERT INTO roachbank.accounts (id, balance, currency, credit_limit, reference, metadata, sequence, moved_at)
  SELECT $1::UUID, $2::INT8, $4::TEXT, $5::INT8, $6::TEXT, $7::TEXT,
    CASE WHEN $2::INT8 > 0 THEN 1 ELSE 0 END, CASE WHEN $2::INT8 > 0 THEN now() END
  WHERE $2::INT8 = 0 OR NOT EXISTS (SELECT 1 FROM roachbank.transfers WHERE id = $3::UUID)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, balance, held, currency, credit_limit, reference, metadata, created_at, closed_at
),
opening AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency, created_at, to_sequence, to_balance_after)
  SELECT $3::UUID, 'deposit', NULL, id, balance, currency, now(), 1, balance FROM account WHERE balance > 0
  RETURNING id
)
SELECT id, balance, held, currency, credit_limit, reference, metadata, created_at, closed_at FROM account`;

const singleMove = { name: 'roachbank_move', text: moveSql };
const singleValues = (m: CheckedMovement) => [
  m.id,
  m.fromId,
  m.toId,
  m.amount,
  [m.fromId, m.toId].filter((id) => id !== null).length,
  m.kind,
  m.reference,
  metadataText(m.metadata),
];
const plainBatchMove = { name: 'roachbank_move_plain_batch', text: movePlainBatchSql, planOnce: true };
/** $1–$5 of both batch statements: ids, sources, destinations, amounts, request kinds. */
const batchSides = (items: readonly CheckedMovement[]) => [
  items.map((m) => m.id),
  items.map((m) => m.fromId),
  items.map((m) => m.toId),
  items.map((m) => m.amount),
  items.map((m) => m.kind),
];
/** The last two arrays of both: references and metadata. */
const batchAnnotations = (items: readonly CheckedMovement[]) => [
  items.map((m) => m.reference),
  items.map((m) => metadataText(m.metadata)),
];
const plainBatchValues = (items: readonly CheckedMovement[]) => [...batchSides(items), ...batchAnnotations(items)];
const batchMove = { name: 'roachbank_move_batch', text: moveBatchSql, planOnce: true };
/** The sides, then $6 the subjects (a post's or void's hold, a reversal's row), $7 a hold's expiry in ms, then the annotations. */
const batchValues = (items: readonly CheckedMovement[]) => [
  ...batchSides(items),
  items.map((m) => (m.kind === 'post' || m.kind === 'void' ? m.holdId : m.kind === 'reversal' ? m.reversalOf : null)),
  items.map((m) => (m.kind === 'hold' && m.expiresInMs !== null ? BigInt(m.expiresInMs) : null)),
  ...batchAnnotations(items),
];
/** A lone deposit, withdrawal or transfer is sent as the single statement, a batch of them as the plain batch statement: the same answer, for less work on the server. */
const isPlain = (m: CheckedMovement) => m.kind === 'deposit' || m.kind === 'withdrawal' || m.kind === 'transfer';
/** The statement and values for a batch: the leanest that carries every kind in it. */
const batchStatement = (items: readonly CheckedMovement[]) =>
  items.every(isPlain) ? ([plainBatchMove, plainBatchValues(items)] as const) : ([batchMove, batchValues(items)] as const);

/** The row locks an atomic group takes before its first statement: every account it names, in id order. */
const lockGroupAccounts = {
  name: 'roachbank_lock_group',
  text: 'SELECT id FROM roachbank.accounts WHERE id = ANY($1::UUID[]) ORDER BY id FOR UPDATE',
};
const accountsOfGroup = (batches: readonly (readonly CheckedMovement[])[]) => [
  ...new Set(batches.flat().flatMap((m) => [m.fromId, m.toId].filter((id) => id !== null))),
];

/** How many times a batch is sent again when a reversal that committed meanwhile took what was left (23514), or a twin one of its ids (22P02). */
const reversalRaces = 3;

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
            : await runMovementStatement<StatementAnswerRow>(this.pool, ...batchStatement(items), options);
        if (this.groupCommit) this.#onBatch?.(items.length);
        return await answers(items, rows, this.#reader);
      } catch (error) {
        // A reversal committed after this statement's snapshot took what was left (the next
        // statement sees it, and answers REVERSAL_EXCEEDS_ORIGINAL from its lock), or a twin
        // committed one of its ids first (the next one answers it as a replay).
        const cause = causeOf(error);
        if (!(isReversalOvershoot(cause) || isJournalRace(cause)) || raced >= reversalRaces) throw error;
      }
    }
  }

  async moveGroup(batches: readonly (readonly CheckedMovement[])[], signal?: AbortSignal): Promise<GroupAnswer> {
    for (let raced = 0; ; raced++) {
      try {
        return await this.#moveGroupOnce(batches, signal);
      } catch (error) {
        // A twin committed one of the group's ids first (`isJournalRace`): the whole group again.
        if (!isJournalRace(causeOf(error)) || raced >= reversalRaces) throw error;
      }
    }
  }

  async #moveGroupOnce(batches: readonly (readonly CheckedMovement[])[], signal?: AbortSignal): Promise<GroupAnswer> {
    const options = { ...this.retry.write, isolation: 'read committed' as const, ...(signal ? { signal } : {}) };
    try {
      return await runTransaction(
        this.pool,
        async (client) => {
          await planOnceOn(client);
          const reader = clientReader(client);
          // Every account of the group first, in id order: its statements lock again what
          // this transaction holds, so groups never wait on one another in a cycle.
          await client.query({ ...lockGroupAccounts, values: [accountsOfGroup(batches)] });
          const all: MovementResult<MoveAnswer>[] = [];
          for (const batch of batches) {
            let rows: StatementAnswerRow[];
            try {
              const [statement, values] = batchStatement(batch);
              ({ rows } = await client.query<StatementAnswerRow>({ ...statement, values }));
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

  async insertAccount({
    id,
    balance,
    openingId,
    currency,
    creditLimit,
    reference,
    metadata,
  }: NewAccount): Promise<Account | undefined> {
    for (let raced = 0; ; raced++) {
      try {
        const { rows } = await this.#single<AccountRow>(this.retry.write, 'roachbank_create_account', createAccountSql, [
          id,
          balance,
          openingId,
          currency,
          creditLimit,
          reference,
          metadataText(metadata),
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

  listAccounts(limit: number, after: PagePosition | null, newest: boolean): Promise<Positioned<Account>[]> {
    const [name, sql] = newest
      ? ['roachbank_list_accounts_newest', (later: boolean) => listAccountsSql(later, true)]
      : ['roachbank_list_accounts', listAccountsSql];
    return this.#page(name, sql, [], limit, after, toAccount);
  }

  async accountsByIdRange(lower: string, upper: string, limit: number, after: string | null): Promise<Positioned<Account>[]> {
    const { rows } = await this.#single<AccountRow & { position: string }>(
      this.retry.read,
      after ? 'roachbank_accounts_by_id_range_after' : 'roachbank_accounts_by_id_range',
      accountsByIdRangeSql(after !== null),
      after ? [lower, upper, limit, after] : [lower, upper, limit],
    );
    return rows.map((row) => ({ ...toAccount(row), position: row.position }));
  }

  accountsByReference(reference: string, limit: number, after: PagePosition | null): Promise<Positioned<Account>[]> {
    return this.#page('roachbank_accounts_by_reference', accountsByReferenceSql, [reference], limit, after, toAccount);
  }

  transfersByReference(reference: string, limit: number, after: PagePosition | null): Promise<Positioned<JournalEntry>[]> {
    return this.#page('roachbank_transfers_by_reference', transfersByReferenceSql, [reference], limit, after, toTransfer);
  }

  async changeAccount(id: string, deciding: (account: Account | undefined) => Account | AccountChange): Promise<Account> {
    try {
      return await runTransaction(
        this.pool,
        async (client) => {
          const { rows } = await client.query<AccountRow>(
            `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1 FOR UPDATE`,
            [id],
          );
          const account = rows[0] && toAccount(rows[0]);
          const decision = deciding(account);
          if (decision === 'close') {
            const closed = await client.query<{ closed_at: Date }>(
              'UPDATE roachbank.accounts SET closed_at = now() WHERE id = $1 RETURNING closed_at',
              [id],
            );
            return { ...account!, closedAt: closed.rows[0]!.closed_at };
          }
          if ('setCreditLimit' in decision) {
            await client.query('UPDATE roachbank.accounts SET credit_limit = $2 WHERE id = $1', [id, decision.setCreditLimit]);
            return { ...account!, creditLimit: decision.setCreditLimit };
          }
          return decision;
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

  holdsOf(accountId: string, limit: number, after: PagePosition | null): Promise<Positioned<Hold>[]> {
    return this.#page('roachbank_holds', holdsSql, [accountId], limit, after, toHold);
  }

  async releaseExpired(limit: number): Promise<number> {
    const { rows } = await this.#single<{ released: string }>(this.retry.write, 'roachbank_release_expired', releaseExpiredSql, [
      limit,
    ]);
    return Number(rows[0]!.released);
  }

  history(accountId: string, limit: number, after: ChainPosition | null): Promise<Positioned<JournalEntry>[]> {
    return this.#page('roachbank_history', historySql, [accountId], limit, after, toTransfer);
  }

  /**
   * One keyset page: `leading` values, the limit, and after a cursor its (created_at, id), or
   * its (created_at, sequence) for a page in chain order.
   * A first page and a next page are two statements (`sql(after)`, named `name` and
   * `name_after`), so each keeps its index range in a generic plan (an `$n IS NULL OR …`
   * filter would scan from the start).
   */
  async #page<R extends pg.QueryResultRow, T>(
    name: string,
    sql: (after: boolean) => string,
    leading: readonly unknown[],
    limit: number,
    after: PagePosition | ChainPosition | null,
    convert: (row: R) => T,
  ): Promise<Positioned<T>[]> {
    const { rows } = await this.#single<R & { position: string }>(
      this.retry.read,
      after ? `${name}_after` : name,
      sql(after !== null),
      after ? [...leading, limit, after.createdAt, 'id' in after ? after.id : after.sequence] : [...leading, limit],
    );
    return rows.map((row) => ({ ...convert(row), position: row.position }));
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
