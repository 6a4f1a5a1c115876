// The keyset pages of PgBank, one statement for a first page and one for a next
// page, so each keeps its index range in a generic plan (an `$n IS NULL OR …`
// filter would scan from the start). bench/read-costs.ts measures them.

/**
 * An account's `held` as every read shows it: the stored sum of its pending holds less
 * those whose time has passed (a sweep may not have tidied them yet), looked up only
 * for an account that holds anything, by the partial index of pending holds.
 */
const heldNow = `CASE WHEN accounts.held = 0 THEN accounts.held ELSE accounts.held - COALESCE((
  SELECT sum(due.amount) FROM roachbank.holds AS due
  WHERE due.from_id = accounts.id AND due.status = 'pending' AND due.expires_at <= now()), 0)::INT8 END`;

/** The columns PgBank reads of an account, of a journal row and of a hold, in every statement. */
export const accountColumns = `accounts.id, accounts.balance, ${heldNow} AS held, accounts.currency, accounts.credit_limit,
  accounts.reference, accounts.metadata, accounts.created_at, accounts.closed_at`;
export const transferColumns = `id, kind, from_id, to_id, amount, currency, created_at, hold_id, reversal_of, reference, metadata,
  from_sequence, from_balance_after, to_sequence, to_balance_after`;
/** A hold's status is `expired` from the moment its time passes, whatever the row says. */
export const holdColumns = `id, from_id, to_id, amount,
  CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END AS status,
  created_at, expires_at, posted_amount, transfer_id, reference, metadata`;

/**
 * Accounts oldest first, or newest first (the same index read backwards): `$1` the
 * limit; after a cursor, `$2, $3` its (created_at, id). On CockroachDB the index is
 * hash-sharded (migration 0003): either way, one limited scan per bucket, merged.
 */
export function listAccountsSql(after: boolean, newest = false): string {
  const [beyond, direction] = newest ? ['<', ' DESC'] : ['>', ''];
  return `SELECT ${accountColumns}, created_at::TEXT AS position FROM roachbank.accounts
${after ? `WHERE (created_at, id) ${beyond} ($2::TIMESTAMPTZ, $3::UUID)\n` : ''}ORDER BY created_at${direction}, id${direction} LIMIT $1`;
}

/**
 * The accounts whose ids lie from `$1` to `$2` (an id prefix's range), by id: one range
 * of the primary key. `$3` the limit; after a cursor, `$4` the last id.
 */
export function accountsByIdRangeSql(after: boolean): string {
  return `SELECT ${accountColumns}, created_at::TEXT AS position FROM roachbank.accounts
WHERE id BETWEEN $1::UUID AND $2::UUID${after ? ' AND id > $4::UUID' : ''}
ORDER BY id LIMIT $3`;
}

/**
 * The accounts with a reference, oldest first: `$1` the reference, `$2` the limit; after a
 * cursor, `$3, $4` its (created_at, id). One range of the partial index (reference,
 * created_at, id) of migration 0007, however large the book.
 */
export function accountsByReferenceSql(after: boolean): string {
  return `SELECT ${accountColumns}, created_at::TEXT AS position FROM roachbank.accounts
WHERE reference = $1::TEXT${after ? ' AND (created_at, id) > ($3::TIMESTAMPTZ, $4::UUID)' : ''}
ORDER BY created_at, id LIMIT $2`;
}

/** The journal rows with a reference, oldest first, as `accountsByReferenceSql` reads accounts. */
export function transfersByReferenceSql(after: boolean): string {
  return `SELECT ${transferColumns}, created_at::TEXT AS position FROM roachbank.transfers
WHERE reference = $1::TEXT${after ? ' AND (created_at, id) > ($3::TIMESTAMPTZ, $4::UUID)' : ''}
ORDER BY created_at, id LIMIT $2`;
}

/** An account's holds newest first: `$1` the account, `$2` the limit; after a cursor, `$3, $4` its (created_at, id). */
export function holdsSql(after: boolean): string {
  return `SELECT ${holdColumns}, created_at::TEXT AS position FROM roachbank.holds
WHERE from_id = $1::UUID${after ? ' AND (created_at, id) < ($3::TIMESTAMPTZ, $4::UUID)' : ''}
ORDER BY created_at DESC, id DESC LIMIT $2`;
}

/**
 * An account's history newest first, in chain order: two ordered, limited branches, one per
 * index (money out by (from_id, created_at, from_sequence), money in by the same on the
 * destination side, migration 0010), merged. A page reads at most twice its size, never the
 * account's whole history; a movement is in one branch only, as no movement goes from an
 * account to itself. `$1` the account, `$2` the limit; after a cursor, `$3, $4` its
 * (created_at, sequence): a NULL sequence (a row not yet numbered) continues by time alone.
 */
export function historySql(after: boolean): string {
  const branch = (side: 'from' | 'to') =>
    `(SELECT ${transferColumns}, created_at::TEXT AS position, ${side}_sequence AS chain_sequence FROM roachbank.transfers
      WHERE ${side}_id = $1::UUID${after ? ` AND (created_at, ${side}_sequence) < ($3::TIMESTAMPTZ, $4::INT8)` : ''}
      ORDER BY created_at DESC, ${side}_sequence DESC LIMIT $2)`;
  return `${branch('from')}\nUNION ALL\n${branch('to')}
ORDER BY created_at DESC, chain_sequence DESC LIMIT $2`;
}
