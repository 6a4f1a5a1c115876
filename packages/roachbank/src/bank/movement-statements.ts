// The two statements that move money, one movement or a whole batch, each in one round
// trip and one commit. Each enforces, atomically, the predicate of `decideMovement`
// (an id not yet journaled, open accounts, enough funds) and answers in the same
// columns (`StatementAnswerRow`): what that decision needs to answer a movement it did not
// journal, after the journal has been read again (`PgStore`). Both read nothing that the client
// then writes: their safety comes from the row locks taken in id order, the journal's
// unique id and CHECK (balance >= 0), so they are correct at READ COMMITTED, where
// PostgreSQL re-reads a contended row after the lock instead of failing with 40001.

//
// Holds and reversals (migration 0005) add three things every statement keeps:
// - an account's `held` is the sum of its holds still marked pending; one whose
//   `expires_at` has passed counts for nothing from that moment, sweep or no sweep, so a
//   debit is checked against `balance − held + due`, where `due` sums the source's
//   expired pending holds. They are read FOR UPDATE after the account's lock, and only
//   for a source whose `held` is above 0: a sweep (`releaseExpiredSql`) or a post that
//   committed while this statement waited changed them, and a locked row is re-read at
//   its latest version and re-checked against `status = 'pending'` (PostgreSQL's
//   EvalPlanQual; CockroachDB re-runs the statement on a newer snapshot). A hold placed
//   after this statement's snapshot that has also expired since is missed: the check
//   is then stricter than it needs to be, never looser;
// - locks are taken in one order, accounts (by id) first, then holds, then the
//   reversed totals, and a hold or a reversed total is only ever locked by a statement
//   that holds the lock of the account it belongs to, so these statements never wait
//   on one another in a cycle;
// - CockroachDB allows one modification of a table per statement
//   (docs: known-limitations, "statements containing multiple modification subqueries
//   of the same table are disallowed", `sql.multiple_modifications_of_table.enabled`),
//   so each table is written by one sub-statement: the journal by an INSERT, accounts
//   by one UPDATE of balance and held together, holds by one upsert (new holds, posts
//   and voids), the reversed totals by one upsert.

/**
 * One row of either statement's answer, per movement. It is kept small: CockroachDB
 * retries a statement on the server (after a read refresh fails, say) only while its
 * whole answer still sits in the connection's results buffer, which is
 * `sql.defaults.results_buffer.size` (docs: "Limit the size of the result sets of
 * your transactions to under 16KB, so that CockroachDB is more likely to automatically
 * retry", performance/increase-server-side-retries). Its default was 16 KiB until
 * cockroachdb/cockroach#124633 raised it to 512 KiB (backported to release-24.1);
 * older releases, and clusters that lower it, still have 16 KiB. A batch of `groupCommitDefaults.maxSize` rows fits in
 * 16 KiB with every column at its widest: an applied movement answers with its time, its currency and NULLs; the
 * other columns are there only for a movement the statement did not apply, and the
 * journal (and hold) under its id is read afterwards (`PgStore`), not sent here.
 */
export interface StatementAnswerRow {
  /** Set when this statement applied the movement (its journal row's or its hold's time); the other columns are then not read. */
  readonly applied_at: Date | null;
  /** An applied journal row's place in its source's and destination's chains (migration 0008); NULL for a side it has not, or not yet back-filled. */
  readonly from_sequence: string | null;
  readonly from_balance_after: string | null;
  readonly to_sequence: string | null;
  readonly to_balance_after: string | null;
  /** The currency of its accounts: an applied movement's journal row carries it. */
  readonly currency: string | null;
  /** The source is open (true for a deposit, which has none). */
  readonly from_open: boolean | null;
  /** The destination is open (true for a withdrawal). */
  readonly to_open: boolean | null;
  /**
   * The source's available balance as locked by the statement, before any change. What
   * is left to reverse of a reversal's original is read after the statement, with the
   * journal: the statement's snapshot may predate the first reversal's total.
   */
  readonly from_available: string | null;
  /** The source's credit limit (how far below 0 `from_available` may go). */
  readonly from_credit_limit: string | null;
  /** Whether its accounts share one currency (true when it names one account). */
  readonly currencies_match: boolean | null;
}

// When a statement's rows are recorded: now, or later if one of its locked accounts has a
// later row (migration 0008: a transaction that waited on a lock may have started before
// the one it waited for, and an account's rows by time must be its rows by number).
// Compared with CASE, not GREATEST, so that a NULL moved_at reads as "no row yet".
const stampSql = `stamp AS (
  SELECT CASE WHEN max(moved_at) > now() THEN max(moved_at) ELSE now() END AS at FROM locked
),`;

// The running balances of a batch's journal rows (migration 0008): every leg (a row's side
// on one account) of the accepted items in input order, numbered and summed per account
// from the account as `checked` saw it locked (NULL for an account whose chain is not yet
// back-filled), then gathered back into one row per item (`chain`). The legs carry their
// account's starting point rather than joining the locked rows again: under a generic
// plan every such join is a nested loop over the whole batch (BENCHMARKS.md, "Running
// balances").
const batchChainSql = `legs AS (
  SELECT ord, from_id AS account_id, -amount AS delta, from_balance AS base_balance, from_sequence AS base_sequence, true AS is_from
  FROM accepted WHERE from_id IS NOT NULL AND kind NOT IN ('hold', 'void')
  UNION ALL
  SELECT ord, to_id, amount, to_balance, to_sequence, false
  FROM accepted WHERE to_id IS NOT NULL AND kind NOT IN ('hold', 'void')
),
running AS (
  SELECT ord, is_from, base_sequence + row_number() OVER account_order AS sequence,
    CASE WHEN base_sequence IS NOT NULL THEN base_balance + sum(delta) OVER account_order END AS balance_after
  FROM legs
  WINDOW account_order AS (PARTITION BY account_id ORDER BY ord ROWS UNBOUNDED PRECEDING)
),
chain AS (
  SELECT ord,
    max(sequence) FILTER (WHERE is_from) AS from_sequence,
    max(balance_after) FILTER (WHERE is_from) AS from_balance_after,
    max(sequence) FILTER (WHERE NOT is_from) AS to_sequence,
    max(balance_after) FILTER (WHERE NOT is_from) AS to_balance_after
  FROM running
  GROUP BY ord
),`;

// A running balance as a row records it: past INT8 it is NULL (see `journalRaceGuard`).
const inInt8 = (value: string) =>
  `CASE WHEN ${value} BETWEEN -9223372036854775807 AND 9223372036854775807 THEN ${value}::INT8 END`;

// One deposit, withdrawal or transfer ($2 NULL: a deposit; $3 NULL: a withdrawal), $5 = how
// many accounts it names, $6 its kind, $7 and $8 its reference and metadata (NULL: none):
// - `locked` takes the row locks of the open accounts in id order, so two transfers in
//   opposite directions queue instead of deadlocking;
// - `due` locks the source's expired pending holds, only if it holds any (see above);
// - `inserted` journals the movement only if `decideMovement` would: the id is new, the
//   accounts are open and the source has enough available; ON CONFLICT settles a race on the same id;
// - `moved` is one UPDATE for both balances (CockroachDB allows one modification per table
//   and statement), and runs only if the journal row was written.
export const moveSql = `
WITH locked AS (
  SELECT id, balance, held, currency, credit_limit, sequence, moved_at FROM roachbank.accounts
  WHERE id IN ($2::UUID, $3::UUID) AND closed_at IS NULL
  ORDER BY id
  FOR UPDATE
),
${stampSql}
due AS (
  SELECT amount FROM roachbank.holds
  WHERE from_id = $2::UUID AND status = 'pending' AND expires_at <= now()
    AND EXISTS (SELECT 1 FROM locked WHERE id = $2::UUID AND held > 0)
  FOR UPDATE
),
source AS (
  SELECT balance - held + (SELECT COALESCE(sum(amount), 0) FROM due)::INT8 AS available, credit_limit
  FROM locked WHERE id = $2::UUID
),
mixed AS (
  SELECT 1 FROM locked AS one JOIN locked AS other ON one.currency <> other.currency
),
existing AS (
  SELECT id FROM roachbank.transfers WHERE id = $1::UUID
),
inserted AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency, reference, metadata, created_at,
    from_sequence, from_balance_after, to_sequence, to_balance_after)
  SELECT $1::UUID, $6::TEXT, $2::UUID, $3::UUID, $4::INT8, (SELECT currency FROM locked LIMIT 1), $7::TEXT, $8::TEXT,
    (SELECT at FROM stamp),
    (SELECT sequence + 1 FROM locked WHERE id = $2::UUID),
    (SELECT CASE WHEN sequence IS NOT NULL THEN balance - $4::INT8 END FROM locked WHERE id = $2::UUID),
    (SELECT sequence + 1 FROM locked WHERE id = $3::UUID),
    (SELECT CASE WHEN sequence IS NOT NULL AND balance <= 9223372036854775807 - $4::INT8 THEN balance + $4::INT8 END
     FROM locked WHERE id = $3::UUID)
  WHERE NOT EXISTS (SELECT 1 FROM existing)
    AND (SELECT count(*) FROM locked) = $5::INT8
    AND NOT EXISTS (SELECT 1 FROM mixed)
    AND ($2::UUID IS NULL OR (SELECT available FROM source) >= $4::INT8 - (SELECT credit_limit FROM source))
  ON CONFLICT (id) DO NOTHING
  RETURNING created_at, from_sequence, from_balance_after, to_sequence, to_balance_after
),
moved AS (
  UPDATE roachbank.accounts
  SET balance = CASE WHEN id = $2::UUID THEN balance - $4::INT8 ELSE balance + $4::INT8 END,
    sequence = sequence + 1, moved_at = (SELECT at FROM stamp)
  WHERE id IN ($2::UUID, $3::UUID) AND EXISTS (SELECT 1 FROM inserted)
  RETURNING id
)
SELECT
  (SELECT created_at FROM inserted) AS applied_at,
  (SELECT from_sequence FROM inserted) AS from_sequence,
  (SELECT from_balance_after FROM inserted) AS from_balance_after,
  (SELECT to_sequence FROM inserted) AS to_sequence,
  (SELECT to_balance_after FROM inserted) AS to_balance_after,
  (SELECT currency FROM locked LIMIT 1) AS currency,
  $2::UUID IS NULL OR EXISTS (SELECT 1 FROM locked WHERE id = $2::UUID) AS from_open,
  $3::UUID IS NULL OR EXISTS (SELECT 1 FROM locked WHERE id = $3::UUID) AS to_open,
  (SELECT available FROM source) AS from_available,
  (SELECT credit_limit FROM source) AS from_credit_limit,
  NOT EXISTS (SELECT 1 FROM mixed) AS currencies_match
WHERE (SELECT count(*) FROM moved) >= 0`;

// The one case a batch's chain could be wrong: an accepted item whose id a twin request
// committed after this statement's snapshot (it waited on the same locks) is not inserted
// (ON CONFLICT DO NOTHING), and the items after it on its accounts were numbered and summed
// as if it had been. The statement then fails instead, with 22P02 (a text that is no
// number, cast at run time), and the store sends it again: the next snapshot sees the twin.
//
// And a running balance past INT8 (a credit the items after it would take back, or one of
// a twin's items that will not be written) is computed as NULL rather than failing where it
// stands, so that an item that is not written cannot fail the batch: a written row with one
// fails the statement with 22003, as an overflow of its balance does, and the bank sends
// the items again one by one (each then answered as a single movement would be).
export const journalRaceMarker = 'a twin committed first';
const journalRaceGuard = `CAST(CASE WHEN (SELECT count(*) FROM inserted) = (SELECT count(*) FROM accepted WHERE kind NOT IN ('hold', 'void'))
    THEN '0' ELSE '${journalRaceMarker}' END AS INT8) = 0
  AND CAST(CASE WHEN EXISTS (SELECT 1 FROM inserted WHERE (from_sequence IS NOT NULL AND from_balance_after IS NULL)
      OR (to_sequence IS NOT NULL AND to_balance_after IS NULL))
    THEN '9223372036854775808' ELSE '0' END AS INT8) = 0`;

// What both batch statements share, word for word: the account locks (every open account
// the batch names, in id order), the sources' expired pending holds (locked after the
// accounts, only for a source that holds anything), and a source's available balance
// (balance − held, the expired holds counted back).
const batchLocked = `locked AS (
  SELECT id, balance, held, currency, credit_limit, sequence, moved_at FROM roachbank.accounts
  WHERE id = ANY ($2::UUID[] || $3::UUID[]) AND closed_at IS NULL
  ORDER BY id
  FOR UPDATE
),
${stampSql}`;
const batchDue = `due AS (
  SELECT id, from_id, to_id, amount, created_at, expires_at FROM roachbank.holds
  WHERE from_id IN (SELECT id FROM locked WHERE held > 0) AND status = 'pending' AND expires_at <= now()
  FOR UPDATE
),`;
const batchAvailable = `source.balance - source.held + COALESCE((SELECT sum(due.amount) FROM due WHERE due.from_id = item.from_id), 0)::INT8 AS from_available,
    source.balance AS from_balance, source.sequence AS from_sequence, destination.balance AS to_balance, destination.sequence AS to_sequence,
    source.credit_limit AS from_credit_limit,
    COALESCE(source.currency = destination.currency, true) AS currencies_match,
    COALESCE(source.currency, destination.currency) AS currency`;

// A batch of movements of every kind as parallel arrays: $1 ids, $2 sources, $3 destinations
// (NULL where there is none), $4 amounts, $5 request kinds, $6 subjects (the hold a post or
// void settles, the row a reversal reverses), $7 a hold's expiry in ms (NULL: never), $8 and
// $9 references and metadata (NULL: none; a void's are not written); one answer row per
// movement in input order. A post or void names its hold's sides and a
// reversal its original's swapped, as the bank read them (they never change); the
// statement reads the rest under its locks. The batch must keep the rule of `BatchRule`
// (no id or subject twice, no account debited twice); see there why the outcome is then
// serializable. Step by step:
// - `item` numbers the movements: multi-argument `unnest` in FROM zips the arrays, as in
//   PostgreSQL (CockroachDB: the variadic `unnest` overload, "Returns the input arrays as a
//   set of rows", pkg/sql/sem/builtins/generator_builtins.go), and `WITH ORDINALITY` keeps
//   their order (CockroachDB docs, Table Expressions, "Ordinality annotation":
//   https://www.cockroachlabs.com/docs/v24.1/table-expressions#ordinality-annotation);
// - `locked` locks every open account the batch names, in id order, like `moveSql`
//   (`= ANY` of the two arrays concatenated: primary-key lookups in both engines); then
//   `settling` the holds posts and voids settle, `due` the sources' expired pending holds,
//   and `reversed_so_far` the reversed totals of the rows reversals reverse, each after
//   every account lock (their WHERE reads `locked` whole first). Every row the batch
//   reads by key is read as `= ANY` of its array (`journaled`, `placed`, `originals`):
//   a primary-key lookup in any plan, where a join on the key let a generic plan made
//   while the journal was small walk the whole journal per batch;
// - `checked` holds what `decideMovement` needs of each item: whether something is
//   recorded under its id as of the statement's start, the available balance of its
//   source and the state of what it settles, as locked;
// - `accepted` keeps the items `decideMovement` would apply, by kind: a post of a pending,
//   unexpired hold for at most its amount (not checked against the balance: its money is
//   reserved); a void of a pending, unexpired hold; a reversal within what is left of its
//   original and the source's available balance; a deposit always; any other debit
//   within the source's available balance; and every account open;
// - `inserted` journals the accepted deposits, withdrawals, transfers, posts and reversals
//   (a row's kind follows from its sides), ON CONFLICT (id) DO NOTHING for a concurrent
//   request with the same id, which is then answered from the journal;
// - `written` is the one upsert of holds: new holds (a hold id taken concurrently
//   changes nothing: `WHERE excluded.status <> 'pending'`), the holds whose post was
//   journaled (posted, with the post's id and amount) and the voided ones. Every proposed
//   row is whole and valid, as both engines check a proposed row before its conflict (a
//   settled hold's proposed reference and metadata are NULL: the update leaves them).
//   A new hold also marks its source's expired holds `expired` (what a sweep does), so
//   `held` never holds them and the new one together: a hold of up to 2^63 − 1 on an
//   account whose expired holds still sit in `held` would otherwise overflow it. No hold
//   is written twice: one hold item per source (the batch rule), and a post or void of
//   an expired hold is never accepted;
// - `change` sums, per account, the balance and `held` changes: a journaled row moves
//   balances; a new hold adds to its source's `held`, a post or void takes its hold's
//   whole amount off it (a post of less releases the rest). An aggregate over the
//   RETURNING rows of data-modifying CTEs, at the top level of the statement, as
//   CockroachDB requires: https://www.cockroachlabs.com/docs/v24.1/common-table-expressions#data-modifying-statements.
//   sum(INT8) is NUMERIC in PostgreSQL and DECIMAL in CockroachDB (functions reference,
//   aggregate functions), hence the cast back to INT8, which fails with 22003 past 2^63 − 1
//   (the bank isolates the item that caused it);
// - `moved` is the one UPDATE of accounts, `UPDATE … FROM` the per-account sums (CockroachDB:
//   "Reference other tables in an update", https://www.cockroachlabs.com/docs/v24.1/update);
//   one sum per account, so no target row meets two source rows. Every changed account is
//   one the batch names (a post or void names its hold's source), and saying so again,
//   `= ANY` of the arrays, keeps PostgreSQL's generic plan on the primary key: without it,
//   its guess at the sums' row count made it scan every account (1000 here) per batch;
// - `reversal_totals` adds each journaled reversal to its original's reversed total. The
//   first reversal of a row creates its total: one that committed after this statement's
//   snapshot is not in `reversed_so_far` (a row that did not exist cannot be locked), so
//   the CHECK (reversed <= original) is the last word: it fails the statement (23514)
//   when that race took what was left, and the store runs it again, seeing the total;
// - the answer: an applied item's row is its time and NULLs (`StatementAnswerRow` says why);
//   every data-modifying CTE is referenced in the WHERE, at no cost per row.
export const moveBatchSql = `
WITH item AS (
  SELECT id, kind, from_id, to_id, amount, subject, expires_ms, reference, metadata, ord
  FROM unnest($1::UUID[], $2::UUID[], $3::UUID[], $4::INT8[], $5::TEXT[], $6::UUID[], $7::INT8[], $8::TEXT[], $9::TEXT[])
    WITH ORDINALITY AS item (id, from_id, to_id, amount, kind, subject, expires_ms, reference, metadata, ord)
),
${batchLocked}
settling AS (
  SELECT id, from_id, to_id, amount, status, created_at, expires_at,
    status = 'pending' AND expires_at IS NOT NULL AND expires_at <= now() AS expired
  FROM roachbank.holds
  WHERE id = ANY ($6::UUID[]) AND (SELECT count(*) FROM locked) >= 0
  FOR UPDATE
),
${batchDue}
reversed_so_far AS (
  SELECT transfer_id, reversed FROM roachbank.reversed_amounts
  WHERE transfer_id = ANY ($6::UUID[]) AND (SELECT count(*) FROM locked) >= 0
  FOR UPDATE
),
journaled AS (
  SELECT id FROM roachbank.transfers WHERE id = ANY ($1::UUID[])
),
placed AS (
  SELECT id FROM roachbank.holds WHERE id = ANY ($1::UUID[])
),
originals AS (
  SELECT id, amount FROM roachbank.transfers WHERE id = ANY ($6::UUID[])
),
checked AS (
  SELECT item.ord, item.id, item.kind, item.from_id, item.to_id, item.amount, item.subject, item.expires_ms,
    item.reference, item.metadata,
    item.from_id IS NULL OR source.id IS NOT NULL AS from_open,
    item.to_id IS NULL OR destination.id IS NOT NULL AS to_open,
    ${batchAvailable},
    CASE item.kind WHEN 'hold' THEN placed.id IS NOT NULL WHEN 'void' THEN false ELSE journaled.id IS NOT NULL END AS taken,
    settled.status AS hold_status, settled.expired AS hold_expired, settled.amount AS hold_amount,
    original.amount AS original, original.amount - COALESCE(reversed_so_far.reversed, 0) AS reversible
  FROM item
  LEFT JOIN locked AS source ON source.id = item.from_id
  LEFT JOIN locked AS destination ON destination.id = item.to_id
  LEFT JOIN journaled ON journaled.id = item.id
  LEFT JOIN placed ON placed.id = item.id
  LEFT JOIN settling AS settled ON settled.id = item.subject AND item.kind IN ('post', 'void')
  LEFT JOIN originals AS original ON original.id = item.subject AND item.kind = 'reversal'
  LEFT JOIN reversed_so_far ON reversed_so_far.transfer_id = item.subject AND item.kind = 'reversal'
  WHERE (SELECT count(*) FROM locked) >= 0
),
accepted AS (
  SELECT * FROM checked
  WHERE NOT taken AND from_open AND to_open AND currencies_match AND CASE kind
    WHEN 'post' THEN hold_status = 'pending' AND NOT hold_expired AND amount <= hold_amount
    WHEN 'void' THEN hold_status = 'pending' AND NOT hold_expired
    WHEN 'reversal' THEN amount <= reversible AND (from_id IS NULL OR from_available >= amount - from_credit_limit)
    WHEN 'deposit' THEN true
    ELSE from_available >= amount - from_credit_limit
  END
),
${batchChainSql}
inserted AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency, hold_id, reversal_of, reference, metadata,
    created_at, from_sequence, from_balance_after, to_sequence, to_balance_after)
  SELECT accepted.id, CASE WHEN from_id IS NULL THEN 'deposit' WHEN to_id IS NULL THEN 'withdrawal' ELSE 'transfer' END,
    from_id, to_id, amount, currency, CASE WHEN kind = 'post' THEN subject END, CASE WHEN kind = 'reversal' THEN subject END,
    reference, metadata, (SELECT at FROM stamp), chain.from_sequence, ${inInt8('chain.from_balance_after')},
    chain.to_sequence, ${inInt8('chain.to_balance_after')}
  FROM accepted LEFT JOIN chain ON chain.ord = accepted.ord
  WHERE kind NOT IN ('hold', 'void')
  ON CONFLICT (id) DO NOTHING
  RETURNING id, from_id, to_id, amount, reversal_of, created_at, from_sequence, from_balance_after, to_sequence, to_balance_after
),
written AS (
  INSERT INTO roachbank.holds AS hold (id, from_id, to_id, amount, status, created_at, expires_at, settled_at, transfer_id, posted_amount, reference, metadata)
  SELECT id, from_id, to_id, amount, 'pending', now(), now() + expires_ms * INTERVAL '1 millisecond', NULL::TIMESTAMPTZ, NULL::UUID, NULL::INT8,
    reference, metadata
  FROM accepted WHERE kind = 'hold'
  UNION ALL
  SELECT settled.id, settled.from_id, settled.to_id, settled.amount,
    CASE accepted.kind WHEN 'post' THEN 'posted' ELSE 'voided' END, settled.created_at, settled.expires_at, now(),
    CASE accepted.kind WHEN 'post' THEN accepted.id END, CASE accepted.kind WHEN 'post' THEN accepted.amount END, NULL::TEXT, NULL::TEXT
  FROM accepted JOIN settling AS settled ON settled.id = accepted.subject
  WHERE accepted.kind = 'void' OR (accepted.kind = 'post' AND EXISTS (SELECT 1 FROM inserted WHERE inserted.id = accepted.id))
  UNION ALL
  SELECT due.id, due.from_id, due.to_id, due.amount, 'expired', due.created_at, due.expires_at, due.expires_at, NULL::UUID, NULL::INT8,
    NULL::TEXT, NULL::TEXT
  FROM due JOIN accepted ON accepted.from_id = due.from_id AND accepted.kind = 'hold'
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, settled_at = excluded.settled_at,
    transfer_id = excluded.transfer_id, posted_amount = excluded.posted_amount
  WHERE excluded.status <> 'pending'
  RETURNING hold.id, hold.from_id, hold.amount, hold.status, hold.created_at, hold.settled_at
),
change AS (
  SELECT account, sum(balance_delta)::INT8 AS balance_delta, sum(held_delta)::INT8 AS held_delta, sum(legs)::INT8 AS legs
  FROM (
    SELECT from_id AS account, -amount AS balance_delta, 0::INT8 AS held_delta, 1 AS legs FROM inserted WHERE from_id IS NOT NULL
    UNION ALL
    SELECT to_id, amount, 0::INT8, 1 FROM inserted WHERE to_id IS NOT NULL
    UNION ALL
    SELECT from_id, 0::INT8, CASE WHEN status = 'pending' THEN amount ELSE -amount END, 0 FROM written
  ) AS movement
  GROUP BY account
),
moved AS (
  UPDATE roachbank.accounts AS account
  SET balance = account.balance + change.balance_delta, held = account.held + change.held_delta,
    sequence = account.sequence + change.legs,
    moved_at = CASE WHEN change.legs > 0 THEN (SELECT at FROM stamp) ELSE account.moved_at END
  FROM change
  WHERE account.id = change.account AND account.id = ANY ($2::UUID[] || $3::UUID[])
  RETURNING account.id
),
reversal_totals AS (
  INSERT INTO roachbank.reversed_amounts AS total (transfer_id, original, reversed)
  SELECT inserted.reversal_of, checked.original, inserted.amount
  FROM inserted JOIN checked ON checked.id = inserted.id
  WHERE inserted.reversal_of IS NOT NULL
  ON CONFLICT (transfer_id) DO UPDATE SET reversed = total.reversed + excluded.reversed
  RETURNING total.transfer_id
)
SELECT
  COALESCE(inserted.created_at, written.settled_at, written.created_at) AS applied_at,
  inserted.from_sequence, inserted.from_balance_after, inserted.to_sequence, inserted.to_balance_after,
  checked.currency,
  CASE WHEN inserted.id IS NULL AND written.id IS NULL THEN checked.from_open END AS from_open,
  CASE WHEN inserted.id IS NULL AND written.id IS NULL THEN checked.to_open END AS to_open,
  CASE WHEN inserted.id IS NULL AND written.id IS NULL THEN checked.from_available END AS from_available,
  CASE WHEN inserted.id IS NULL AND written.id IS NULL THEN checked.from_credit_limit END AS from_credit_limit,
  CASE WHEN inserted.id IS NULL AND written.id IS NULL THEN checked.currencies_match END AS currencies_match
FROM checked
LEFT JOIN inserted ON inserted.id = checked.id
LEFT JOIN written ON written.id = checked.id AND checked.kind IN ('hold', 'void')
WHERE (SELECT count(*) FROM moved) >= 0 AND (SELECT count(*) FROM reversal_totals) >= 0
  AND ${journalRaceGuard}
ORDER BY checked.ord`;

// A batch of deposits, withdrawals and transfers only, the common case: `moveBatchSql`
// without what only holds, posts, voids and reversals need (the holds settled, the holds
// and reversed totals written, the originals), which cost a plain batch of 32 about a
// third more time on the server (BENCHMARKS.md, "Plain batches"). The same arrays
// $1–$5, then $6 and $7 references and metadata, and the same answer; the same locks, checks and writes for these kinds, so the
// batch rule and its argument are those of `moveBatchSql`.
export const movePlainBatchSql = `
WITH item AS (
  SELECT id, kind, from_id, to_id, amount, reference, metadata, ord
  FROM unnest($1::UUID[], $2::UUID[], $3::UUID[], $4::INT8[], $5::TEXT[], $6::TEXT[], $7::TEXT[])
    WITH ORDINALITY AS item (id, from_id, to_id, amount, kind, reference, metadata, ord)
),
${batchLocked}
${batchDue}
journaled AS (
  SELECT id FROM roachbank.transfers WHERE id = ANY ($1::UUID[])
),
checked AS (
  SELECT item.ord, item.id, item.kind, item.from_id, item.to_id, item.amount, item.reference, item.metadata,
    item.from_id IS NULL OR source.id IS NOT NULL AS from_open,
    item.to_id IS NULL OR destination.id IS NOT NULL AS to_open,
    ${batchAvailable},
    journaled.id IS NOT NULL AS taken
  FROM item
  LEFT JOIN locked AS source ON source.id = item.from_id
  LEFT JOIN locked AS destination ON destination.id = item.to_id
  LEFT JOIN journaled ON journaled.id = item.id
  WHERE (SELECT count(*) FROM locked) >= 0
),
accepted AS (
  SELECT * FROM checked
  WHERE NOT taken AND from_open AND to_open AND currencies_match
    AND (from_id IS NULL OR from_available >= amount - from_credit_limit)
),
${batchChainSql}
inserted AS (
  INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency, reference, metadata,
    created_at, from_sequence, from_balance_after, to_sequence, to_balance_after)
  SELECT accepted.id, kind, from_id, to_id, amount, currency, reference, metadata,
    (SELECT at FROM stamp), chain.from_sequence, ${inInt8('chain.from_balance_after')},
    chain.to_sequence, ${inInt8('chain.to_balance_after')}
  FROM accepted LEFT JOIN chain ON chain.ord = accepted.ord
  ON CONFLICT (id) DO NOTHING
  RETURNING id, from_id, to_id, amount, created_at, from_sequence, from_balance_after, to_sequence, to_balance_after
),
change AS (
  SELECT account, sum(delta)::INT8 AS delta, count(*) AS legs
  FROM (
    SELECT from_id AS account, -amount AS delta FROM inserted WHERE from_id IS NOT NULL
    UNION ALL
    SELECT to_id, amount FROM inserted WHERE to_id IS NOT NULL
  ) AS movement
  GROUP BY account
),
moved AS (
  UPDATE roachbank.accounts AS account
  SET balance = account.balance + change.delta, sequence = account.sequence + change.legs, moved_at = (SELECT at FROM stamp)
  FROM change
  WHERE account.id = change.account AND account.id = ANY ($2::UUID[] || $3::UUID[])
  RETURNING account.id
)
SELECT
  inserted.created_at AS applied_at,
  inserted.from_sequence, inserted.from_balance_after, inserted.to_sequence, inserted.to_balance_after,
  checked.currency,
  CASE WHEN inserted.id IS NULL THEN checked.from_open END AS from_open,
  CASE WHEN inserted.id IS NULL THEN checked.to_open END AS to_open,
  CASE WHEN inserted.id IS NULL THEN checked.from_available END AS from_available,
  CASE WHEN inserted.id IS NULL THEN checked.from_credit_limit END AS from_credit_limit,
  CASE WHEN inserted.id IS NULL THEN checked.currencies_match END AS currencies_match
FROM checked
LEFT JOIN inserted ON inserted.id = checked.id
WHERE (SELECT count(*) FROM moved) >= 0 AND ${journalRaceGuard}
ORDER BY checked.ord`;

// Tidies expired holds: marks up to $1 of them `expired` and takes them off their source's
// `held`, after locking those accounts in id order (the order every movement locks in).
// Correctness never depends on it: an expired hold counts for nothing either way. A hold
// posted or voided meanwhile is skipped (re-checked after its lock).
export const releaseExpiredSql = `
WITH candidate AS (
  SELECT id, from_id FROM roachbank.holds
  WHERE status = 'pending' AND expires_at <= now()
  ORDER BY expires_at
  LIMIT $1
),
locked AS (
  SELECT id FROM roachbank.accounts WHERE id IN (SELECT from_id FROM candidate) ORDER BY id FOR UPDATE
),
released AS (
  UPDATE roachbank.holds SET status = 'expired', settled_at = expires_at
  WHERE id IN (SELECT id FROM candidate) AND status = 'pending' AND expires_at <= now()
    AND (SELECT count(*) FROM locked) >= 0
  RETURNING from_id, amount
),
change AS (
  SELECT from_id, sum(amount)::INT8 AS amount FROM released GROUP BY from_id
),
moved AS (
  UPDATE roachbank.accounts AS account SET held = account.held - change.amount
  FROM change WHERE account.id = change.from_id
  RETURNING account.id
)
SELECT count(*) AS released FROM released WHERE (SELECT count(*) FROM moved) >= 0`;
