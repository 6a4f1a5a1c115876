// The two statements that move money, one movement or a whole batch, each in one round
// trip and one commit. Each enforces, atomically, the predicate of `decideMovement`
// (an id not yet journaled, open accounts, enough funds) and answers in the same
// columns (`StatementAnswerRow`): what that decision needs to answer a movement it did not
// journal, after the journal has been read again (`PgStore`). Both read nothing that the client
// then writes: their safety comes from the row locks taken in id order, the journal's
// unique id and CHECK (balance >= 0), so they are correct at READ COMMITTED, where
// PostgreSQL re-reads a contended row after the lock instead of failing with 40001.

/**
 * One row of either statement's answer, per movement. It is kept small: CockroachDB
 * retries a statement on the server (after a read refresh fails, say) only while its
 * whole answer still sits in the connection's results buffer, which is
 * `sql.defaults.results_buffer.size` (docs: "Limit the size of the result sets of
 * your transactions to under 16KB, so that CockroachDB is more likely to automatically
 * retry", performance/increase-server-side-retries). Its default was 16 KiB until
 * cockroachdb/cockroach#124633 raised it to 512 KiB (backported to release-24.1);
 * older releases, and clusters that lower it, still have 16 KiB. A batch of `groupCommitDefaults.maxSize` rows fits in
 * 16 KiB: a journaled movement answers with its `created_at` and three NULLs; the
 * other columns are there only for a movement the statement did not journal, and the
 * journal row under its id is read afterwards (`PgStore`), not sent here.
 */
export interface StatementAnswerRow {
  /** Set when this statement journaled the movement; the other columns are then not read. */
  readonly created_at: Date | null;
  /** The source is open (true for a deposit, which has none). */
  readonly from_open: boolean | null;
  /** The destination is open (true for a withdrawal). */
  readonly to_open: boolean | null;
  /** The source's balance as locked by the statement, before any change. */
  readonly from_balance: string | null;
}

// One movement (transfer; deposit: $2 NULL; withdrawal: $3 NULL), $5 = how many accounts it
// names, $6 its kind:
// - `locked` takes the row locks of the open accounts in id order, so two transfers in
//   opposite directions queue instead of deadlocking;
// - `inserted` journals the movement only if `decideMovement` would: the id is new, the
//   accounts are open and the source holds enough; ON CONFLICT settles a race on the same id;
// - `moved` is one UPDATE for both balances (CockroachDB allows one modification per table
//   and statement), and runs only if the journal row was written.
export const moveSql = `
WITH locked AS (
  SELECT id, balance FROM roachbank.accounts
  WHERE id IN ($2::UUID, $3::UUID) AND closed_at IS NULL
  ORDER BY id
  FOR UPDATE
),
existing AS (
  SELECT id FROM roachbank.transfers WHERE id = $1::UUID
),
inserted AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount)
  SELECT $1::UUID, $6::TEXT, $2::UUID, $3::UUID, $4::INT8
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
  $2::UUID IS NULL OR EXISTS (SELECT 1 FROM locked WHERE id = $2::UUID) AS from_open,
  $3::UUID IS NULL OR EXISTS (SELECT 1 FROM locked WHERE id = $3::UUID) AS to_open,
  (SELECT balance FROM locked WHERE id = $2::UUID) AS from_balance
WHERE (SELECT count(*) FROM moved) >= 0`;

// A batch of movements as parallel arrays ($1 ids, $2 sources, $3 destinations, NULL where
// there is none, $4 amounts, $5 kinds), one answer row per movement in input order. The batch must
// keep the rule of `BatchRule` (no id twice, no account debited twice); see there why the
// outcome is then serializable. Step by step:
// - `item` numbers the movements: multi-argument `unnest` in FROM zips the arrays, as in
//   PostgreSQL (CockroachDB: the variadic `unnest` overload, "Returns the input arrays as a
//   set of rows", pkg/sql/sem/builtins/generator_builtins.go), and `WITH ORDINALITY` keeps
//   their order (CockroachDB docs, Table Expressions, "Ordinality annotation":
//   https://www.cockroachlabs.com/docs/v24.1/table-expressions#ordinality-annotation);
// - `locked` locks every open account the batch names, in id order, like `moveSql`
//   (`= ANY` of the two arrays concatenated: primary-key lookups in both engines);
// - `checked` holds what `decideMovement` needs of each item: the journal as of the
//   statement's start and the balances as locked. Its WHERE makes every lock be taken
//   before any row is written;
// - `inserted` journals the items `decideMovement` would journal, ON CONFLICT (id) DO NOTHING for a concurrent
//   request with the same id, which is then answered from the journal;
// - `change` sums, per account, what the journaled items move (an aggregate over the
//   RETURNING rows of a data-modifying CTE, in a CTE at the top level of the statement,
//   as CockroachDB requires: https://www.cockroachlabs.com/docs/v24.1/common-table-expressions#data-modifying-statements).
//   sum(INT8) is NUMERIC in PostgreSQL and DECIMAL in CockroachDB (functions reference,
//   aggregate functions), hence the cast back to INT8, which fails with 22003 past 2^63 − 1
//   (the bank isolates the item that caused it);
// - `moved` is the one UPDATE of accounts, `UPDATE … FROM` the per-account sums (CockroachDB:
//   "Reference other tables in an update", https://www.cockroachlabs.com/docs/v24.1/update);
//   one sum per account, so no target row meets two source rows, which CockroachDB would
//   resolve arbitrarily. Journal and balances are two tables, each modified once;
// - the answer: a journaled item's row is its `created_at` and NULLs, so a full batch fits
//   a 16 KiB results buffer (`StatementAnswerRow` says why); `moved` is referenced in the WHERE,
//   as it was in every row before, at no cost per row.
export const moveBatchSql = `
WITH item AS (
  SELECT id, kind, from_id, to_id, amount, ord
  FROM unnest($1::UUID[], $2::UUID[], $3::UUID[], $4::INT8[], $5::TEXT[]) WITH ORDINALITY AS item (id, from_id, to_id, amount, kind, ord)
),
locked AS (
  SELECT id, balance FROM roachbank.accounts
  WHERE id = ANY ($2::UUID[] || $3::UUID[]) AND closed_at IS NULL
  ORDER BY id
  FOR UPDATE
),
existing AS (
  SELECT id FROM roachbank.transfers WHERE id = ANY ($1::UUID[])
),
checked AS (
  SELECT item.ord, item.id, item.kind, item.from_id, item.to_id, item.amount,
    item.from_id IS NULL OR source.id IS NOT NULL AS from_open,
    item.to_id IS NULL OR destination.id IS NOT NULL AS to_open,
    source.balance AS from_balance,
    existing.id IS NOT NULL AS journaled
  FROM item
  LEFT JOIN locked AS source ON source.id = item.from_id
  LEFT JOIN locked AS destination ON destination.id = item.to_id
  LEFT JOIN existing ON existing.id = item.id
  WHERE (SELECT count(*) FROM locked) >= 0
),
inserted AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount)
  SELECT id, kind, from_id, to_id, amount FROM checked
  WHERE NOT journaled AND from_open AND to_open AND (from_id IS NULL OR from_balance >= amount)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, from_id, to_id, amount, created_at
),
change AS (
  SELECT account, sum(delta)::INT8 AS delta
  FROM (
    SELECT from_id AS account, -amount AS delta FROM inserted WHERE from_id IS NOT NULL
    UNION ALL
    SELECT to_id, amount FROM inserted WHERE to_id IS NOT NULL
  ) AS movement
  GROUP BY account
),
moved AS (
  UPDATE roachbank.accounts AS account SET balance = account.balance + change.delta
  FROM change
  WHERE account.id = change.account
  RETURNING account.id
)
SELECT
  inserted.created_at,
  CASE WHEN inserted.id IS NULL THEN checked.from_open END AS from_open,
  CASE WHEN inserted.id IS NULL THEN checked.to_open END AS to_open,
  CASE WHEN inserted.id IS NULL THEN checked.from_balance END AS from_balance
FROM checked
LEFT JOIN inserted ON inserted.id = checked.id
WHERE (SELECT count(*) FROM moved) >= 0
ORDER BY checked.ord`;
