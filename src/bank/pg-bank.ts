import type pg from 'pg';
import { statementIsolation } from '../db/statement-isolation.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import { runSingleStatement, runTransaction } from '../txn/run-transaction.js';
import type { Account, Page, PageRequest, Transfer, TransferOutcome } from './bank.js';
import { accountNotFound, insufficientFunds, translateDatabaseError } from './bank-errors.js';
import { parseId } from './ids.js';
import { JournalBank, type NewAccount } from './journal-bank.js';
import { replayOf, type Movement } from './movement.js';
import { pageFrom, pageOf } from './page-cursor.js';

// Every money movement (transfer, deposit: $2 NULL, withdrawal: $3 NULL) is this one
// statement, one round trip, so CockroachDB can retry it on the server:
// - `locked` takes the row locks of the open accounts in id order, so two transfers in
//   opposite directions queue instead of deadlocking;
// - `inserted` journals the transfer only if the id is new, the accounts are open and the
//   source holds enough; ON CONFLICT settles a race on the same id;
// - `moved` is one UPDATE for both balances (CockroachDB allows one modification per table
//   and statement), and runs only if the journal row was written.
// It reads nothing that the client then writes, so it is correct at READ COMMITTED, where
// PostgreSQL re-reads a contended row after the lock instead of failing with 40001 as it
// does at SERIALIZABLE; CHECK (balance >= 0) stays the last word on overdrafts.
export const moveSql = `
WITH locked AS (
  SELECT id, balance FROM roachbank.accounts
  WHERE id IN ($2::UUID, $3::UUID) AND closed_at IS NULL
  ORDER BY id
  FOR UPDATE
),
existing AS (
  SELECT from_id, to_id, amount, created_at FROM roachbank.transfers WHERE id = $1::UUID
),
inserted AS (
  INSERT INTO roachbank.transfers (id, from_id, to_id, amount)
  SELECT $1::UUID, $2::UUID, $3::UUID, $4::INT8
  WHERE NOT EXISTS (SELECT 1 FROM existing)
    AND (SELECT count(*) FROM locked) = $5::INT8
    AND ($2::UUID IS NULL OR (SELECT balance FROM locked WHERE id = $2::UUID) >= $4::INT8)
  ON CONFLICT (id) DO NOTHING
  RETURNING created_at
),
moved AS (
  UPDATE roachbank.accounts
  SET balance = CASE WHEN id = $2::UUID THEN balance - $4::INT8 ELSE balance + $4::INT8 END
  WHERE id IN ($2::UUID, $3::UUID) AND EXISTS (SELECT 1 FROM inserted)
  RETURNING id
)
SELECT
  (SELECT created_at FROM inserted) AS created_at,
  (SELECT count(*) FROM moved) AS moved,
  (SELECT array_agg(id::TEXT) FROM locked) AS open_ids,
  (SELECT balance FROM locked WHERE id = $2::UUID) AS from_balance,
  e.from_id AS existing_from_id, e.to_id AS existing_to_id, e.amount AS existing_amount, e.created_at AS existing_created_at
FROM (SELECT 1) AS one LEFT JOIN existing AS e ON true`;

// An account and its opening balance (journaled as money entering) in one statement;
// a second submission with the same ids (after an ambiguous commit) changes nothing.
const createAccountSql = `
WITH account AS (
  INSERT INTO roachbank.accounts (id, balance) VALUES ($1::UUID, $2::INT8)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, balance, created_at, closed_at
),
opening AS (
  INSERT INTO roachbank.transfers (id, from_id, to_id, amount)
  SELECT $3::UUID, NULL, id, balance FROM account WHERE balance > 0
  RETURNING id
)
SELECT id, balance, created_at, closed_at FROM account`;

/** Each connection's session default isolation, learned once (keyed by its socket wrapper). */
const readCommittedSessions = new WeakMap<object, boolean>();

async function isReadCommittedSession(client: pg.ClientBase): Promise<boolean> {
  const key = (client as unknown as { connection: object }).connection;
  let known = readCommittedSessions.get(key);
  if (known === undefined) {
    known = (await statementIsolation(client)) === 'read committed';
    readCommittedSessions.set(key, known);
  }
  return known;
}

/**
 * The movement as one batch, `BEGIN ISOLATION LEVEL READ COMMITTED; …; COMMIT`: one round
 * trip that PostgreSQL runs at READ COMMITTED and that CockroachDB, which retries a
 * transaction sent as a single batch, can retry on the server. A batch takes no
 * parameters, so the values are written in as literals: ids already checked as UUIDs,
 * amounts as bigints, and escaped all the same.
 */
function moveBatch(client: pg.ClientBase, values: readonly (string | bigint | number | null)[]): string {
  const literal = (value: string | bigint | number | null) =>
    value === null ? 'NULL' : typeof value === 'string' ? client.escapeLiteral(value) : `${BigInt(value)}`;
  const statement = moveSql.replace(/\$(\d)/g, (_, n: string) => literal(values[Number(n) - 1] ?? null));
  return `BEGIN ISOLATION LEVEL READ COMMITTED;\n${statement};\nCOMMIT`;
}

const accountColumns = 'id, balance, created_at, closed_at';
const transferColumns = 'id, from_id, to_id, amount, created_at';

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
interface MoveRow {
  created_at: Date | null;
  moved: string;
  open_ids: string[] | null;
  from_balance: string | null;
  existing_from_id: string | null;
  existing_to_id: string | null;
  existing_amount: string | null;
  existing_created_at: Date | null;
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

/**
 * The bank on the pg driver: each money movement is one statement through
 * `runSingleStatement`; reads and the rare multi-statement operations go through
 * `runTransaction`.
 *
 * @example
 * const bank = new PgBank(pool);
 * const { transfer } = await bank.transfer({ fromId, toId, amount: 100n });
 */
export class PgBank extends JournalBank {
  protected async insertAccount({ id, balance, openingId }: NewAccount): Promise<Account | undefined> {
    return this.resolving(async () => {
      const { rows } = await this.#single<AccountRow>('roachbank_create_account', createAccountSql, [id, balance, openingId]);
      return rows[0] ? toAccount(rows[0]) : undefined;
    });
  }

  async getAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    const { rows } = await this.#single<AccountRow>(
      'roachbank_get_account',
      `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1::UUID`,
      [accountId],
    );
    if (!rows[0]) throw accountNotFound(accountId);
    return toAccount(rows[0]);
  }

  protected async readBalances(ids: readonly string[]): Promise<Map<string, bigint>> {
    const { rows } = await this.#single<{ id: string; balance: string }>(
      'roachbank_balances',
      'SELECT id::TEXT AS id, balance FROM roachbank.accounts WHERE id = ANY($1::UUID[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, BigInt(row.balance)]));
  }

  async listAccounts(request?: PageRequest): Promise<Page<Account>> {
    const { limit, after } = pageOf(request);
    const { rows } = await this.#single<AccountRow & { position: string }>(
      'roachbank_list_accounts',
      `SELECT ${accountColumns}, created_at::TEXT AS position FROM roachbank.accounts
       WHERE $1::TIMESTAMPTZ IS NULL OR (created_at, id) > ($1::TIMESTAMPTZ, $2::UUID)
       ORDER BY created_at, id LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return pageFrom(rows, limit, toAccount);
  }

  async closeAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    return this.resolving(() =>
      runTransaction(this.pool, async (client) => {
        const { rows } = await client.query<AccountRow>(
          `SELECT ${accountColumns} FROM roachbank.accounts WHERE id = $1 FOR UPDATE`,
          [accountId],
        );
        const account = rows[0];
        if (!account) throw accountNotFound(accountId);
        if (account.closed_at) return toAccount(account);
        if (BigInt(account.balance) !== 0n) {
          throw new RoachbankError('ACCOUNT_NOT_EMPTY', `account ${accountId} holds ${account.balance}: empty it before closing`);
        }
        const closed = await client.query<AccountRow>(
          `UPDATE roachbank.accounts SET closed_at = now() WHERE id = $1 RETURNING ${accountColumns}`,
          [accountId],
        );
        return toAccount(closed.rows[0]!);
      }, this.retry),
    );
  }

  async getTransfer(id: string): Promise<Transfer> {
    const transferId = parseId(id, 'transfer id');
    const { rows } = await this.#single<TransferRow>(
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
      'roachbank_history',
      `SELECT ${transferColumns}, created_at::TEXT AS position FROM roachbank.transfers
       WHERE (from_id = $1::UUID OR to_id = $1::UUID)
         AND ($2::TIMESTAMPTZ IS NULL OR (created_at, id) < ($2::TIMESTAMPTZ, $3::UUID))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [id, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    if (rows.length === 0 && !after) await this.getAccount(id); // an unknown account is an error, not an empty history
    return pageFrom(rows, limit, toTransfer);
  }

  protected async move(request: Movement): Promise<TransferOutcome> {
    const accounts = [request.fromId, request.toId].filter((id) => id !== null).length;
    const values = [request.id, request.fromId, request.toId, request.amount, accounts];
    return this.resolving(async () => {
      const row = await this.#runMove<MoveRow>(values);
      if (row.created_at) {
        const { fromId, toId, amount, id } = request;
        return { transfer: { id, fromId, toId, amount, createdAt: row.created_at }, replayed: false };
      }
      if (row.existing_amount !== null && row.existing_created_at) {
        const existing = {
          id: request.id,
          fromId: row.existing_from_id,
          toId: row.existing_to_id,
          amount: BigInt(row.existing_amount),
          createdAt: row.existing_created_at,
        };
        return { transfer: replayOf(existing, request), replayed: true };
      }
      const open = new Set(row.open_ids ?? []);
      for (const id of [request.fromId, request.toId]) if (id !== null && !open.has(id)) throw accountNotFound(id, 'open');
      if (request.fromId !== null && BigInt(row.from_balance ?? 0) < request.amount) {
        throw insufficientFunds(request.fromId, BigInt(row.from_balance ?? 0), request.amount);
      }
      // A concurrent request with the same id committed after this statement's snapshot.
      return { transfer: replayOf(await this.getTransfer(request.id), request), replayed: true };
    });
  }

  /**
   * Runs the movement in one round trip: on a session whose default is READ COMMITTED
   * (roachbank's own pools), as a prepared statement in autocommit, which spares the
   * server parsing and planning it every time (2× the transfers/s here); on any other
   * session, as the `BEGIN ISOLATION LEVEL READ COMMITTED; …; COMMIT` batch.
   */
  async #runMove<R extends pg.QueryResultRow>(values: readonly (string | bigint | number | null)[]): Promise<R> {
    try {
      return await runSingleStatement(
        this.pool,
        async (client) => {
          if (await isReadCommittedSession(client)) {
            const { rows } = await client.query<R>({ name: 'roachbank_move', text: moveSql, values: [...values] });
            return rows[0]!;
          }
          const results = (await client.query(moveBatch(client, values))) as unknown as pg.QueryResult<R>[];
          const [, statement, commit] = results;
          if (commit?.command !== 'COMMIT') throw new Error(`the batch ended with ${commit?.command ?? 'nothing'}, not COMMIT`);
          return statement!.rows[0]!;
        },
        this.retry,
      );
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  async #single<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await runSingleStatement(this.pool, (client) => client.query<R>({ name, text, values }), this.retry);
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }
}
