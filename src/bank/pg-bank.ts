import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import { sqlState } from '../txn/classify-error.js';
import { type RunTransactionOptions, runSingleStatement, runTransaction } from '../txn/run-transaction.js';
import type { Account, BankOptions, MovementResult, Page, PageRequest, Transfer, TransferOutcome } from './bank.js';
import { accountNotFound, isDataRefusal, translateDatabaseError } from './bank-errors.js';
import { assertBatchRule, sequentialBatches } from './batch-rule.js';
import { GroupCommit, groupCommitDefaults } from './group-commit.js';
import { parseId } from './ids.js';
import { JournalBank, type NewAccount } from './journal-bank.js';
import type { Movement } from './movement.js';
import { answerOf, settledAnswer } from './movement-answer.js';
import { type MovementRow, moveBatchSql, moveSql } from './movement-statements.js';
import { pageFrom, pageOf } from './page-cursor.js';
import { accountColumns, historySql, listAccountsSql, transferColumns } from './page-statements.js';
import { isRefusal, refusedAfterAmbiguity } from './resolve-ambiguity.js';
import { runMovementStatement } from './run-movement-statement.js';

// An account and its opening balance (journaled as money entering) in one statement;
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
  INSERT INTO roachbank.transfers (id, from_id, to_id, amount)
  SELECT $3::UUID, NULL, id, balance FROM account WHERE balance > 0
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
const toTransfer = (row: TransferRow): Transfer => ({
  id: row.id,
  fromId: row.from_id,
  toId: row.to_id,
  amount: BigInt(row.amount),
  createdAt: row.created_at,
});

const toResult = (answer: { outcome: TransferOutcome } | { error: unknown }): MovementResult =>
  'outcome' in answer ? { ok: true, outcome: answer.outcome } : { ok: false, error: answer.error };

const singleMove = { name: 'roachbank_move', text: moveSql };
const singleValues = (m: Movement) => [m.id, m.fromId, m.toId, m.amount, [m.fromId, m.toId].filter((id) => id !== null).length];
// A batch of one is sent as the single statement: the same answer, for less work on the server.
const batchMove = { name: 'roachbank_move_batch', text: moveBatchSql, planOnce: true };
const batchValues = (items: readonly Movement[]) => [
  items.map((m) => m.id),
  items.map((m) => m.fromId),
  items.map((m) => m.toId),
  items.map((m) => m.amount),
];

/**
 * The bank on the pg driver. Money moves in batches (DESIGN §7): concurrent
 * `transfer`, `deposit` and `withdraw` calls are coalesced by `GroupCommit` into
 * one statement and one commit (`moveBatchSql`), and `transferMany` cuts its list
 * into batches that keep input order. With `batch: false` each movement is its
 * own statement (`moveSql`). Either way a statement is one round trip through
 * `runSingleStatement`; reads and the rare multi-statement operations go through
 * `runTransaction`.
 *
 * @example
 * const bank = new PgBank(pool);
 * const { transfer } = await bank.transfer({ fromId, toId, amount: 100n });
 */
export class PgBank extends JournalBank {
  readonly #group: GroupCommit | undefined;
  readonly #maxBatchSize: number;
  readonly #onBatch: BankOptions['onBatch'];

  constructor(pool: pg.Pool, options: BankOptions = {}) {
    super(pool, options);
    this.#onBatch = options.onBatch;
    this.#maxBatchSize = (options.batch === false ? undefined : options.batch?.maxSize) ?? groupCommitDefaults.maxSize;
    this.#group = options.batch === false ? undefined : new GroupCommit((batch) => this.#runBatch(batch), options.batch);
  }

  protected async insertAccount({ id, balance, openingId }: NewAccount): Promise<Account | undefined> {
    return this.resolving(async () => {
      for (let raced = 0; ; raced++) {
        try {
          const { rows } = await this.#single<AccountRow>(this.retry, 'roachbank_create_account', createAccountSql, [
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
    });
  }

  async getAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    const { rows } = await this.#single<AccountRow>(
      this.read,
      'roachbank_get_account',
      `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1::UUID`,
      [accountId],
    );
    if (!rows[0]) throw accountNotFound(accountId);
    return toAccount(rows[0]);
  }

  protected async readBalances(ids: readonly string[]): Promise<Map<string, bigint>> {
    const { rows } = await this.#single<{ id: string; balance: string }>(
      this.read,
      'roachbank_balances',
      'SELECT id::TEXT AS id, balance FROM roachbank.accounts WHERE id = ANY($1::UUID[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, BigInt(row.balance)]));
  }

  async listAccounts(request?: PageRequest): Promise<Page<Account>> {
    const { limit, after } = pageOf(request);
    // A first page and a next page are two statements, so each keeps its index range
    // in a generic plan (an `$1 IS NULL OR …` filter would scan from the start).
    const { rows } = await this.#single<AccountRow & { position: string }>(
      this.read,
      after ? 'roachbank_list_accounts_after' : 'roachbank_list_accounts',
      listAccountsSql(after !== null),
      after ? [limit + 1, after.createdAt, after.id] : [limit + 1],
    );
    return pageFrom(rows, limit, toAccount);
  }

  async closeAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    return this.resolving(() =>
      runTransaction(
        this.pool,
        async (client) => {
          const { rows } = await client.query<AccountRow>(
            `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1 FOR UPDATE`,
            [accountId],
          );
          const account = rows[0];
          if (!account) throw accountNotFound(accountId);
          if (account.closed_at) return toAccount(account);
          if (BigInt(account.balance) !== 0n) {
            throw new RoachbankError(
              'ACCOUNT_NOT_EMPTY',
              `account ${accountId} holds ${account.balance}: empty it before closing`,
            );
          }
          const closed = await client.query<AccountRow>(
            `UPDATE roachbank.accounts SET closed_at = now() WHERE id = $1 RETURNING ${accountColumns}`,
            [accountId],
          );
          return toAccount(closed.rows[0]!);
        },
        this.retry,
      ),
    );
  }

  async getTransfer(id: string): Promise<Transfer> {
    const transferId = parseId(id, 'transfer id');
    const { rows } = await this.#single<TransferRow>(
      this.read,
      'roachbank_get_transfer',
      `SELECT ${transferColumns} FROM roachbank.transfers WHERE id = $1::UUID`,
      [transferId],
    );
    if (!rows[0]) throw new RoachbankError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
    return toTransfer(rows[0]);
  }

  async history(accountId: string, request?: PageRequest): Promise<Page<Transfer>> {
    const id = parseId(accountId, 'account id');
    const { limit, after } = pageOf(request);
    const { rows } = await this.#single<TransferRow & { position: string }>(
      this.read,
      after ? 'roachbank_history_after' : 'roachbank_history',
      historySql(after !== null),
      after ? [id, limit + 1, after.createdAt, after.id] : [id, limit + 1],
    );
    if (rows.length === 0 && !after) await this.getAccount(id); // an unknown account is an error, not an empty history
    return pageFrom(rows, limit, toTransfer);
  }

  protected move(request: Movement, signal?: AbortSignal): Promise<TransferOutcome> {
    return this.#group ? this.#group.submit(request, signal) : this.#moveAlone(request, signal);
  }

  /** `transferMany`: consecutive batches that keep input order, each waiting for the one before. */
  protected override moveMany(movements: readonly Movement[], signal?: AbortSignal): Promise<MovementResult[]> {
    if (!this.#group) return super.moveMany(movements, signal);
    return this.inOrder(sequentialBatches(movements, this.#maxBatchSize), (batch) => this.#runBatch(batch), signal);
  }

  /** One movement, one statement (`moveSql`). */
  #moveAlone(request: Movement, signal: AbortSignal | undefined): Promise<TransferOutcome> {
    return this.resolving(async () => {
      const [row] = await runMovementStatement<MovementRow>(this.pool, singleMove, singleValues(request), {
        ...this.retry,
        ...(signal ? { signal } : {}),
      });
      const [answer] = await this.#answers([request], [row!]);
      if (!answer!.ok) throw answer!.error;
      return answer!.outcome;
    });
  }

  /**
   * One batch (it keeps the batch rule), answered item by item. A retryable failure
   * retries the whole statement (`runSingleStatement`); an ambiguous commit sends the
   * same batch again, which finds what the first try journaled; a refusal caused by
   * one item's data (an INT8 overflow, say) splits the batch in halves until that
   * item stands alone and gets the answer the single path would give it. Any other
   * failure is every item's answer.
   */
  async #runBatch(items: readonly Movement[]): Promise<MovementResult[]> {
    assertBatchRule(items);
    let rows: MovementRow[];
    let ambiguity: AmbiguousCommitError | undefined;
    try {
      rows = await this.resolving((earlier) => {
        ambiguity = earlier;
        return items.length === 1
          ? runMovementStatement<MovementRow>(this.pool, singleMove, singleValues(items[0]!), this.retry)
          : runMovementStatement<MovementRow>(this.pool, batchMove, batchValues(items), this.retry);
      });
    } catch (error) {
      if (items.length > 1 && isDataRefusal(error)) {
        const half = items.length >> 1;
        return [...(await this.#runBatch(items.slice(0, half))), ...(await this.#runBatch(items.slice(half)))];
      }
      return items.map(() => ({ ok: false, error }));
    }
    this.#onBatch?.(items.length);
    const answers = await this.#answers(items, rows);
    // After an attempt with an unknown outcome, a refusal is not the journal's last word.
    const settled = ambiguity;
    if (settled === undefined) return answers;
    return answers.map((answer) =>
      !answer.ok && isRefusal(answer.error) ? { ok: false, error: refusedAfterAmbiguity(settled, answer.error) } : answer,
    );
  }

  /**
   * Each movement's answer from its statement row; the ones the statement did not
   * journal (refused, found already journaled, or raced by a twin) are settled by the
   * journal as read after the statement, all in one read (`settledAnswer` says why it
   * must come after; a replay's body is read there, not carried in the row).
   */
  async #answers(items: readonly Movement[], rows: readonly MovementRow[]): Promise<MovementResult[]> {
    const answers = items.map((item, i) => {
      try {
        return answerOf(item, rows[i]!);
      } catch (error) {
        return { error };
      }
    });
    const unsettled = items.filter((_, i) => 'refusal' in answers[i]!).map((item) => item.id);
    let journal = new Map<string, Transfer>();
    if (unsettled.length > 0) {
      try {
        journal = await this.#journaled(unsettled);
      } catch (error) {
        // Without the journal's word no refusal is known to be true.
        return answers.map((answer) => ('refusal' in answer ? { ok: false, error } : toResult(answer)));
      }
    }
    return answers.map((answer, i) => {
      if (!('refusal' in answer)) return toResult(answer);
      try {
        return { ok: true, outcome: settledAnswer(items[i]!, answer.refusal, journal.get(items[i]!.id)) };
      } catch (error) {
        return { ok: false, error };
      }
    });
  }

  /** The journal rows of these ids, as of now (a read: retried, never ambiguous). */
  async #journaled(ids: readonly string[]): Promise<Map<string, Transfer>> {
    const { rows } = await this.#single<TransferRow>(
      this.read,
      'roachbank_transfers_by_id',
      `SELECT ${transferColumns} FROM roachbank.transfers WHERE id = ANY($1::UUID[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, toTransfer(row)]));
  }

  /** One prepared statement through the retry core; `options` is `this.read` for the statements that only read. */
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
