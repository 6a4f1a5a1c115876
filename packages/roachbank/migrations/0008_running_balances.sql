-- Running balances and per-account sequence numbers (issue 25), the same on both engines
-- (migration 0009 drops the back-fill's index, which each engine names its own way).
-- Every journal row records, for each account it names, that account's balance after it
-- and its number in the account's chain (1, 2, 3 … in the order the account's movements
-- were applied, a batch's in input order): `from_sequence`/`from_balance_after` for its
-- source, `to_sequence`/`to_balance_after` for its destination. An account keeps the
-- number of its last row (`sequence`) and that row's time (`moved_at`): each movement
-- locks its accounts and takes the next numbers, and a row's `created_at` is never before
-- the last row of either of its accounts (a transaction that waited on a lock started
-- before the one it waited for), so an account's rows by time are its rows by number.
-- Nullable columns without a default: catalogue changes on PostgreSQL, background jobs on
-- CockroachDB (docs: "Online Schema Changes").
--
-- A book from before: `sequence` is NULL until the account's chain is back-filled, and a
-- movement on such an account writes NULL for its side (the back-fill numbers it with
-- the rest). The back-fill takes 100 such accounts at a time in one statement, each its own
-- transaction: it locks them (movements on them wait), numbers each one's rows by
-- (created_at, id), sums their balances in that order, and sets the accounts' `sequence`
-- and `moved_at`; it runs again until no account is left (`-- repeat`). A partial index
-- finds the accounts still to do (dropped by 0009 once none is left).
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS sequence INT8;
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS moved_at TIMESTAMPTZ;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS from_sequence INT8;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS from_balance_after INT8;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS to_sequence INT8;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS to_balance_after INT8;
CREATE INDEX IF NOT EXISTS accounts_chain_backfill_idx ON roachbank.accounts (id) WHERE sequence IS NULL;
-- repeat until no row changes
WITH todo AS (
  SELECT id FROM roachbank.accounts WHERE sequence IS NULL ORDER BY id LIMIT 100 FOR UPDATE
),
legs AS (
  SELECT t.id, t.from_id AS account_id, -t.amount AS delta, t.created_at, true AS is_from
  FROM roachbank.transfers AS t WHERE t.from_id IN (SELECT id FROM todo)
  UNION ALL
  SELECT t.id, t.to_id, t.amount, t.created_at, false
  FROM roachbank.transfers AS t WHERE t.to_id IN (SELECT id FROM todo)
),
chained AS (
  SELECT id, account_id, is_from, created_at,
    row_number() OVER chain AS sequence,
    (sum(delta) OVER chain)::INT8 AS balance_after
  FROM legs
  WINDOW chain AS (PARTITION BY account_id ORDER BY created_at, id ROWS UNBOUNDED PRECEDING)
),
per_row AS (
  SELECT id,
    max(sequence) FILTER (WHERE is_from) AS from_sequence,
    max(balance_after) FILTER (WHERE is_from) AS from_balance_after,
    max(sequence) FILTER (WHERE NOT is_from) AS to_sequence,
    max(balance_after) FILTER (WHERE NOT is_from) AS to_balance_after
  FROM chained
  GROUP BY id
),
filled AS (
  UPDATE roachbank.transfers AS t
  SET from_sequence = COALESCE(per_row.from_sequence, t.from_sequence),
    from_balance_after = COALESCE(per_row.from_balance_after, t.from_balance_after),
    to_sequence = COALESCE(per_row.to_sequence, t.to_sequence),
    to_balance_after = COALESCE(per_row.to_balance_after, t.to_balance_after)
  FROM per_row
  WHERE t.id = per_row.id
  RETURNING t.id
),
last AS (
  SELECT todo.id, COALESCE(max(chained.sequence), 0) AS sequence, max(chained.created_at) AS moved_at
  FROM todo LEFT JOIN chained ON chained.account_id = todo.id
  GROUP BY todo.id
),
done AS (
  UPDATE roachbank.accounts AS account
  SET sequence = last.sequence,
    moved_at = CASE WHEN account.moved_at IS NULL OR account.moved_at < last.moved_at THEN last.moved_at ELSE account.moved_at END
  FROM last
  WHERE account.id = last.id
  RETURNING account.id
)
SELECT id FROM done WHERE (SELECT count(*) FROM filled) >= 0;
