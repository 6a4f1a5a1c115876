// An account's balance at a moment and its statement for a period, read from the journal's
// running balances (migration 0008) by the chain-order indexes (migration 0010). One
// statement each, on the store's pool, for every flavor: both stores write the same rows,
// so one piece of SQL reads them (as `verify` does).
import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { BalanceAt, ChainBalance, JournalEntry, Statement, StatementLine } from './bank.js';
import { accountNotFound } from './bank-errors.js';
import type { ChainPosition } from './bank-store.js';
import { chainPageFrom } from './page-cursor.js';
import { transferColumns } from './page-statements.js';
import { type TransferRow, toTransfer } from './pg-rows.js';

/**
 * The account's last journal row before a moment (`<`), or at it too (`<=`): per side, the
 * greatest (created_at, sequence) of the index range, one descent of each index whatever
 * the history's length; of the two, the later in the chain. `$1` the account, `$2` the moment.
 */
function lastRowSql(name: string, moment: string, comparison: '<' | '<='): string {
  const branch = (side: 'from' | 'to') =>
    `(SELECT ${side}_sequence AS sequence, ${side}_balance_after AS balance_after, true AS found FROM roachbank.transfers
      WHERE ${side}_id = $1::UUID AND created_at ${comparison} ${moment}::TIMESTAMPTZ
      ORDER BY created_at DESC, ${side}_sequence DESC LIMIT 1)`;
  return `${name} AS (
  SELECT sequence, balance_after, found FROM (${branch('from')}\n    UNION ALL\n    ${branch('to')}) AS last
  ORDER BY sequence DESC LIMIT 1
)`;
}

/** `$1` the account, `$2` the moment: its currency and its last row at or before the moment. */
export const balanceAtSql = `WITH ${lastRowSql('last', '$2', '<=')}
SELECT accounts.currency, last.sequence, last.balance_after, last.found
FROM roachbank.accounts LEFT JOIN last ON true
WHERE accounts.id = $1::UUID`;

/**
 * A statement: `$1` the account, `$2` and `$3` the period [from, to), `$4` how many lines;
 * after a cursor, `$5, $6` the last line's (created_at, sequence). Its opening is the balance
 * after the last row before `from`, its closing the one after the last row before `to`, and
 * its lines the rows between, oldest first, each side's branch an ordered range of its index;
 * all from one snapshot. One row per line, each carrying the account's currency, opening and
 * closing; a period without lines gives one row whose line columns are NULL.
 */
export function statementSql(after: boolean): string {
  const line = (side: 'from' | 'to') =>
    `(SELECT ${transferColumns}, created_at::TEXT AS position, ${side}_sequence AS chain_sequence FROM roachbank.transfers
      WHERE ${side}_id = $1::UUID AND created_at >= $2::TIMESTAMPTZ AND created_at < $3::TIMESTAMPTZ${
        after ? ` AND (created_at, ${side}_sequence) > ($5::TIMESTAMPTZ, $6::INT8)` : ''
      }
      ORDER BY created_at, ${side}_sequence LIMIT $4)`;
  return `WITH ${lastRowSql('opening', '$2', '<')},
${lastRowSql('closing', '$3', '<')},
lines AS (
  SELECT * FROM (${line('from')}\n    UNION ALL\n    ${line('to')}) AS line
  ORDER BY created_at, chain_sequence LIMIT $4
)
SELECT accounts.currency AS account_currency, opening.found AS opening_found, opening.sequence AS opening_sequence, opening.balance_after AS opening_balance,
  closing.found AS closing_found, closing.sequence AS closing_sequence, closing.balance_after AS closing_balance, lines.*
FROM roachbank.accounts
LEFT JOIN opening ON true
LEFT JOIN closing ON true
LEFT JOIN lines ON true
WHERE accounts.id = $1::UUID
ORDER BY lines.created_at, lines.chain_sequence`;
}

interface LastRow {
  readonly currency: string;
  readonly sequence: string | null;
  readonly balance_after: string | null;
  readonly found: boolean | null;
}

type StatementRow = {
  /** Named apart from the line's own `currency`, which a statement without lines has as NULL. */
  readonly account_currency: string;
  readonly opening_found: boolean | null;
  readonly closing_found: boolean | null;
  readonly opening_sequence: string | null;
  readonly opening_balance: string | null;
  readonly closing_sequence: string | null;
  readonly closing_balance: string | null;
  readonly position: string | null;
  readonly chain_sequence: string | null;
} & { readonly [K in keyof TransferRow]: TransferRow[K] | null };

/** The account's balance at `at`, from the journal alone; ACCOUNT_NOT_FOUND for an unknown account. */
export async function readBalanceAt(client: pg.ClientBase, accountId: string, at: string): Promise<BalanceAt> {
  const { rows } = await client.query<LastRow>({ name: 'roachbank_balance_at', text: balanceAtSql, values: [accountId, at] });
  const row = rows[0];
  if (!row) throw accountNotFound(accountId);
  return {
    accountId,
    currency: row.currency,
    at,
    ...chainBalance(accountId, row.sequence, row.balance_after, row.found === true),
  };
}

/** One page of the account's statement for [from, to). */
export async function readStatement(
  client: pg.ClientBase,
  accountId: string,
  period: { readonly from: string; readonly to: string },
  limit: number,
  after: ChainPosition | null,
): Promise<Statement> {
  const values: unknown[] = [accountId, period.from, period.to, limit + 1];
  if (after) values.push(after.createdAt, after.sequence);
  const { rows } = await client.query<StatementRow>({
    name: after ? 'roachbank_statement_after' : 'roachbank_statement',
    text: statementSql(after !== null),
    values,
  });
  const first = rows[0];
  if (!first) throw accountNotFound(accountId);
  const opening = chainBalance(accountId, first.opening_sequence, first.opening_balance, first.opening_found === true);
  const closing = chainBalance(accountId, first.closing_sequence, first.closing_balance, first.closing_found === true);
  const lines = chainPageFrom(
    rows
      .filter((row) => row.id !== null)
      .map((row) => {
        const line = lineOf(accountId, row as TransferRow);
        return { line, sequence: line.sequence, position: row.position! };
      }),
    limit,
    ({ line }) => line,
  );
  return {
    accountId,
    currency: first.account_currency,
    from: period.from,
    to: period.to,
    opening,
    closing,
    movements: closing.sequence - opening.sequence,
    lines,
  };
}

/**
 * A journal row seen from one of its accounts: whether money left it, its number and balance
 * after in that account's chain (null for a row not yet numbered), what it did to the account
 * (negative out), and the other side. The one place a row's side is picked for an account.
 */
export function accountSide(accountId: string, entry: JournalEntry) {
  const out = entry.fromId === accountId;
  return {
    out,
    sequence: out ? entry.fromSequence : entry.toSequence,
    balanceAfter: out ? entry.fromBalanceAfter : entry.toBalanceAfter,
    change: out ? -entry.amount : entry.amount,
    counterpartyId: out ? entry.toId : entry.fromId,
  };
}

/** A journal row as a line of the account's statement: what it did to the account and the balance after it. */
function lineOf(accountId: string, row: TransferRow): StatementLine {
  const entry = toTransfer(row);
  const { sequence, balanceAfter, change, counterpartyId } = accountSide(accountId, entry);
  if (sequence === null || balanceAfter === null) throw notNumberedYet(accountId);
  return {
    sequence,
    transferId: entry.id,
    kind: entry.kind,
    createdAt: entry.createdAt,
    change,
    balanceAfter,
    counterpartyId,
    reference: entry.reference,
  };
}

/** A balance in the chain: after row `sequence` (0 and 0 before the account's first row). */
function chainBalance(accountId: string, sequence: string | null, balance: string | null, found: boolean): ChainBalance {
  if (!found) return { sequence: 0, balance: 0n };
  if (sequence === null || balance === null) throw notNumberedYet(accountId);
  return { sequence: Number(sequence), balance: BigInt(balance) };
}

/** A row the back-fill of migration 0008 has not numbered yet: its running balance is not known. */
function notNumberedYet(accountId: string): RoachbankError {
  return new RoachbankError(
    'DATABASE_UNAVAILABLE',
    `account ${accountId}'s running balances are still being numbered (roachbank db init is back-filling them); try again once it has finished`,
  );
}
