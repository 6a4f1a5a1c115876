import type pg from 'pg';
import { detectServer } from '../txn/detect-server.js';
import type { VerifyOptions, VerifyReport } from './bank.js';
import { toMoney } from './money.js';

// One statement, so one snapshot at any isolation level: DESIGN §3's invariants
// 1 (every balance = Σ in − Σ out, none negative) and 2 (Σ balances = Σ entered − Σ left).
// Invariant 3 (each acknowledged id once) is the journal's primary key; workloads check
// their acknowledged ids against it.
//
// Currencies and credit limits (migration 0006): conservation holds per currency (the
// balances of a currency's accounts add up to what entered in it less what left), every
// journal row is in the currency of the accounts it names (counted per leg: a row on
// one account of another currency is one leg, on two, two), and no account is below its
// floor, −credit_limit (for an account without a credit line, below 0, as before).
//
// A malformed row names neither account, the same account twice, or a kind its sides
// contradict (a deposit has no source, a withdrawal no destination, a transfer both).
//
//
// Holds and reversals (migration 0005): every account's `held` is the sum of its holds
// marked pending, and its available balance (balance less its unexpired pending holds)
// is not below 0; a hold's fields agree with its status; every posted hold names a
// journal row that posts it (its amount, its sides), and the journal holds no other row
// naming a hold (two posts of one hold show here as one row too many); a reversal goes
// the opposite way of the row it names, and the reversals of a row add up to at most its
// amount and to the total recorded for it.
//
// Running balances (migration 0008): every account's chain holds. Its journal legs, in
// time order and by number among rows of one time (the order of the chain-order indexes,
// migration 0010, that history, statements and balanceAt read), are numbered 1, 2, 3 …
// without a gap or a repeat, each one's balance after is the one before it (0 before the
// first) plus its amount in or less its amount out, and the last one's is the account's
// balance and number its `sequence`. So a row stamped earlier than the one before it in
// its chain is a break too: a balance at a moment would read past it.
//
// Three passes over the journal, one over each other table. The sums: every journal row
// is read once and counted on both of its sides (the VALUES of two rows, `leg`), grouped
// by account; the group of the NULL account holds the money that entered (its `from`
// sides) and left (its `to` sides). The chains: each side's account legs, in chain order.
// Measured at 1,008,191 rows against the alternatives (BENCHMARKS.md, verify's chains):
// one pass feeding both (the legs materialized for two readers, spilled,
// and one sort carrying every column) 5.6 s; sums and chains from one VALUES each 3.2 s;
// these three, which the planner runs in parallel, 2.7 s; without the chains 1.2 s.
// The accounts are read once, joined to those groups, the holds once, grouped by their
// account, and the reversed totals once. Beyond that the journal is only looked up by
// key: the row each posted hold names, the reversals through their partial index and
// the row each reverses. The CTEs read more than once are materialized by PostgreSQL and
// CockroachDB alike (computed once).
const verifySelect = (asOf: string) => `
WITH leg AS (
  SELECT t.id, t.currency, t.amount, t.kind, t.from_id, t.to_id, t.hold_id, side.account_id, side.delta, side.is_from
  FROM roachbank.transfers AS t
  CROSS JOIN LATERAL (VALUES (t.from_id, -t.amount, true), (t.to_id, t.amount, false)) AS side (account_id, delta, is_from)
),
journal AS (
  SELECT account_id, currency,
    sum(delta) AS net, count(*) AS legs,
    COALESCE(sum(amount) FILTER (WHERE is_from), 0) AS sent,
    COALESCE(sum(amount) FILTER (WHERE NOT is_from), 0) AS received,
    count(*) FILTER (WHERE NOT is_from) AS row_count,
    count(*) FILTER (WHERE NOT is_from AND ((from_id IS NULL AND to_id IS NULL) OR from_id = to_id
      OR kind <> CASE WHEN from_id IS NULL THEN 'deposit' WHEN to_id IS NULL THEN 'withdrawal' ELSE 'transfer' END)) AS malformed,
    count(*) FILTER (WHERE NOT is_from AND hold_id IS NOT NULL) AS posts
  FROM leg
  GROUP BY account_id, currency
),
chain AS (
  SELECT account_id, delta, sequence, balance_after,
    lag(balance_after) OVER account_order AS before, row_number() OVER account_order AS n,
    NOT lead(true, 1, false) OVER account_order AS is_last
  FROM (SELECT from_id AS account_id, created_at, from_sequence AS sequence, -amount AS delta, from_balance_after AS balance_after
      FROM roachbank.transfers WHERE from_id IS NOT NULL
    UNION ALL SELECT to_id, created_at, to_sequence, amount, to_balance_after FROM roachbank.transfers WHERE to_id IS NOT NULL) AS side
  WINDOW account_order AS (PARTITION BY account_id ORDER BY created_at, sequence)
),
chained AS (
  SELECT account_id,
    count(*) FILTER (WHERE sequence IS DISTINCT FROM n OR balance_after IS NULL OR balance_after <> COALESCE(before, 0) + delta) AS broken,
    max(n) AS last_n, max(balance_after) FILTER (WHERE is_last) AS last_balance
  FROM chain
  GROUP BY account_id
),
by_account AS (
  SELECT account_id, sum(net) AS net, sum(legs) AS legs FROM journal WHERE account_id IS NOT NULL GROUP BY account_id
),
holding AS (
  SELECT h.from_id,
    COALESCE(sum(h.amount) FILTER (WHERE h.status = 'pending'), 0) AS pending,
    COALESCE(sum(h.amount) FILTER (WHERE h.status = 'pending' AND h.expires_at <= now()), 0) AS lapsed,
    count(*) FILTER (WHERE h.status = 'posted' AND post.hold_id = h.id AND post.amount = h.posted_amount
      AND post.from_id = h.from_id AND post.to_id IS NOT DISTINCT FROM h.to_id) AS matched_posts,
    count(*) FILTER (WHERE
      (h.status = 'pending' AND (h.transfer_id IS NOT NULL OR h.posted_amount IS NOT NULL OR h.settled_at IS NOT NULL))
      OR (h.status = 'posted' AND (post.id IS NULL OR post.hold_id IS DISTINCT FROM h.id OR post.amount IS DISTINCT FROM h.posted_amount
        OR post.from_id IS DISTINCT FROM h.from_id OR post.to_id IS DISTINCT FROM h.to_id))
      OR (h.status IN ('voided', 'expired') AND (h.transfer_id IS NOT NULL OR h.posted_amount IS NOT NULL))
      OR (h.status = 'expired' AND (h.expires_at IS NULL OR h.expires_at > now()))) AS malformed
  FROM roachbank.holds AS h
  LEFT JOIN roachbank.transfers AS post ON post.id = h.transfer_id
  GROUP BY h.from_id
),
reversal AS (
  SELECT r.reversal_of, sum(r.amount) AS total, o.amount AS original,
    count(*) FILTER (WHERE o.id IS NULL OR r.from_id IS DISTINCT FROM o.to_id OR r.to_id IS DISTINCT FROM o.from_id) > 0 AS wrong_way
  FROM roachbank.transfers AS r
  LEFT JOIN roachbank.transfers AS o ON o.id = r.reversal_of
  WHERE r.reversal_of IS NOT NULL
  GROUP BY r.reversal_of, o.amount
),
checked AS (
  SELECT a.id, a.balance, a.currency, COALESCE(j.net, 0) AS journal,
    a.id IS NULL OR a.balance <> COALESCE(j.net, 0) AS mismatched,
    a.balance < -a.credit_limit AS below_floor,
    COALESCE(j.legs, 0) - COALESCE(own.legs, 0) AS foreign_legs,
    a.held, a.held <> COALESCE(hd.pending, 0) AS held_mismatched,
    a.balance - a.held + COALESCE(hd.lapsed, 0) < -a.credit_limit AS overheld,
    a.id IS NOT NULL AND (COALESCE(ch.broken, 0) > 0 OR a.sequence IS DISTINCT FROM COALESCE(ch.last_n, 0)
      OR (ch.last_n > 0 AND ch.last_balance IS DISTINCT FROM a.balance)) AS chain_broken
  FROM roachbank.accounts AS a
  FULL JOIN by_account AS j ON j.account_id = a.id
  LEFT JOIN chained AS ch ON ch.account_id = a.id
  LEFT JOIN journal AS own ON own.account_id = a.id AND own.currency = a.currency
  LEFT JOIN holding AS hd ON hd.from_id = a.id
)
SELECT
  totals.accounts, totals.total_balance, totals.negative, totals.mismatched_count,
  totals.held_total, totals.held_mismatched, totals.overheld, totals.foreign_legs, totals.broken_chains,
  (SELECT json_agg(json_build_object('currency', COALESCE(c.currency, m.currency), 'accounts', COALESCE(c.accounts, 0),
       'balance', COALESCE(c.balance, 0)::TEXT, 'in', COALESCE(m.money_in, 0)::TEXT, 'out', COALESCE(m.money_out, 0)::TEXT))
     FROM (SELECT currency, count(*) AS accounts, sum(balance) AS balance FROM checked WHERE id IS NOT NULL GROUP BY currency) AS c
     FULL JOIN (SELECT currency, sum(sent) AS money_in, sum(received) AS money_out FROM journal WHERE account_id IS NULL GROUP BY currency) AS m
       ON m.currency = c.currency) AS currencies,
  (SELECT COALESCE(sum(malformed), 0) FROM holding) + (SELECT CASE WHEN p.posts > m.matched THEN p.posts - m.matched ELSE m.matched - p.posts END
     FROM (SELECT COALESCE(sum(posts), 0) AS posts FROM journal) AS p, (SELECT COALESCE(sum(matched_posts), 0) AS matched FROM holding) AS m)
    AS malformed_holds,
  (SELECT count(*) FROM reversal FULL JOIN roachbank.reversed_amounts AS recorded ON recorded.transfer_id = reversal.reversal_of
   WHERE reversal.reversal_of IS NULL OR recorded.transfer_id IS NULL OR reversal.wrong_way OR reversal.total > reversal.original
     OR recorded.reversed <> reversal.total OR recorded.original <> reversal.original) AS bad_reversals,
  moved.transfers, moved.money_in, moved.money_out, moved.malformed,
  (SELECT json_agg(json_build_object('id', m.id, 'balance', m.balance::TEXT, 'journal', m.journal::TEXT))
     FROM (SELECT id, balance, journal FROM checked WHERE mismatched ORDER BY id LIMIT 10) AS m) AS mismatched
FROM
  (SELECT count(id) AS accounts, COALESCE(sum(balance), 0)::TEXT AS total_balance,
     count(*) FILTER (WHERE below_floor) AS negative, count(*) FILTER (WHERE mismatched) AS mismatched_count,
     COALESCE(sum(foreign_legs), 0) AS foreign_legs,
     COALESCE(sum(held), 0)::TEXT AS held_total, count(*) FILTER (WHERE held_mismatched) AS held_mismatched,
     count(*) FILTER (WHERE overheld) AS overheld, count(*) FILTER (WHERE chain_broken) AS broken_chains
   FROM checked) AS totals,
  (SELECT COALESCE(sum(row_count), 0) AS transfers,
     COALESCE(sum(sent) FILTER (WHERE account_id IS NULL), 0)::TEXT AS money_in,
     COALESCE(sum(received) FILTER (WHERE account_id IS NULL), 0)::TEXT AS money_out,
     COALESCE(sum(malformed), 0) AS malformed
   FROM journal) AS moved${asOf}`;

/** The statement on PostgreSQL, and on CockroachDB when the present is asked for. */
export const verifySql = verifySelect('');

/**
 * On CockroachDB: the same statement at a follower-read timestamp (about 4.8 s
 * ago). Still one snapshot, served by the nearest replica, and it neither waits
 * for writers nor makes them retry (docs: "Follower Reads", "AS OF SYSTEM
 * TIME"). The clause stands in the outermost FROM, as CockroachDB requires.
 */
export const followerVerifySql = verifySelect('\nAS OF SYSTEM TIME follower_read_timestamp()');

interface VerifyRow {
  accounts: string;
  transfers: string;
  total_balance: string;
  money_in: string;
  money_out: string;
  negative: string;
  malformed: string;
  mismatched_count: string;
  held_total: string;
  held_mismatched: string;
  overheld: string;
  malformed_holds: string;
  bad_reversals: string;
  foreign_legs: string;
  broken_chains: string;
  currencies: { currency: string; accounts: number; balance: string; in: string; out: string }[] | null;
  mismatched: { id: string | null; balance: string | null; journal: string }[] | null;
}

/**
 * Checks the bank's invariants in one set-based statement (one consistent
 * snapshot). Both flavors call this: it is one piece of SQL for every surface.
 *
 * @example
 * const report = await verifyInvariants(pool); // { ok: true, accounts: 2, ... }
 */
export async function verifyInvariants(queryable: pg.Pool | pg.ClientBase, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  const follower = options.asOf !== 'latest' && (await detectServer(queryable)).kind === 'cockroachdb';
  const { rows } = await queryable.query<VerifyRow>(
    follower ? { name: 'roachbank_verify_follower', text: followerVerifySql } : { name: 'roachbank_verify', text: verifySql },
  );
  const row = rows[0]!;
  const totalBalance = toMoney(row.total_balance);
  const moneyIn = toMoney(row.money_in);
  const moneyOut = toMoney(row.money_out);
  const report = {
    accounts: Number(row.accounts),
    transfers: Number(row.transfers),
    totalBalance,
    moneyIn,
    moneyOut,
    mismatched: (row.mismatched ?? []).map((m) => ({
      id: m.id ?? '(missing account)',
      balance: toMoney(m.balance),
      journal: toMoney(m.journal),
    })),
    mismatchedCount: Number(row.mismatched_count),
    negativeCount: Number(row.negative),
    malformedTransfers: Number(row.malformed),
    heldTotal: toMoney(row.held_total),
    heldMismatchedCount: Number(row.held_mismatched),
    overheldCount: Number(row.overheld),
    malformedHolds: Number(row.malformed_holds),
    badReversals: Number(row.bad_reversals),
    currencyMismatchedLegs: Number(row.foreign_legs),
    brokenChainCount: Number(row.broken_chains),
    currencies: (row.currencies ?? [])
      .map((c) => ({
        currency: c.currency,
        accounts: Number(c.accounts),
        totalBalance: toMoney(c.balance),
        moneyIn: toMoney(c.in),
        moneyOut: toMoney(c.out),
      }))
      .sort((a, b) => (a.currency < b.currency ? -1 : 1)),
    elapsedMs: Math.round(performance.now() - started),
  };
  const ok =
    report.mismatchedCount === 0 &&
    report.negativeCount === 0 &&
    report.malformedTransfers === 0 &&
    report.heldMismatchedCount === 0 &&
    report.overheldCount === 0 &&
    report.malformedHolds === 0 &&
    report.badReversals === 0 &&
    report.currencyMismatchedLegs === 0 &&
    report.brokenChainCount === 0 &&
    report.currencies.every((c) => c.totalBalance === c.moneyIn - c.moneyOut) &&
    totalBalance === moneyIn - moneyOut;
  return { ok, ...report };
}
