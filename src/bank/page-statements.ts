// The keyset pages of PgBank, one statement for a first page and one for a next
// page, so each keeps its index range in a generic plan (an `$n IS NULL OR …`
// filter would scan from the start). bench/read-costs.ts measures them.

/** The columns PgBank reads of an account and of a journal row, in every statement. */
export const accountColumns = 'id, balance, created_at, closed_at';
export const transferColumns = 'id, kind, from_id, to_id, amount, created_at';

/** Accounts oldest first: `$1` the limit; after a cursor, `$2, $3` its (created_at, id). */
export function listAccountsSql(after: boolean): string {
  return `SELECT ${accountColumns}, created_at::TEXT AS position FROM roachbank.accounts
${after ? 'WHERE (created_at, id) > ($2::TIMESTAMPTZ, $3::UUID)\n' : ''}ORDER BY created_at, id LIMIT $1`;
}

/**
 * An account's history newest first: two ordered, limited branches, one per index
 * (money out by from_id, money in by to_id), merged. A page reads at most twice
 * its size, never the account's whole history; a movement is in one branch only,
 * as no movement goes from an account to itself. `$1` the account, `$2` the
 * limit; after a cursor, `$3, $4` its (created_at, id).
 */
export function historySql(after: boolean): string {
  const branch = (column: 'from_id' | 'to_id') =>
    `(SELECT ${transferColumns}, created_at::TEXT AS position FROM roachbank.transfers
      WHERE ${column} = $1::UUID${after ? ' AND (created_at, id) < ($3::TIMESTAMPTZ, $4::UUID)' : ''}
      ORDER BY created_at DESC, id DESC LIMIT $2)`;
  return `${branch('from_id')}\nUNION ALL\n${branch('to_id')}\nORDER BY created_at DESC, id DESC LIMIT $2`;
}
