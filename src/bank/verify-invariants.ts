import type pg from 'pg';
import type { VerifyReport } from './bank.js';
import { toMoney } from './money.js';

// One statement, so one snapshot at any isolation level: DESIGN §3's invariants
// 1 (every balance = Σ in − Σ out, none negative) and 2 (Σ balances = Σ entered − Σ left).
// Invariant 3 (each acknowledged id once) is the journal's primary key; workloads check
// their acknowledged ids against it.
const verifySql = `
WITH journal AS (
  SELECT account_id, sum(delta) AS net FROM (
    SELECT to_id AS account_id, amount AS delta FROM roachbank.transfers WHERE to_id IS NOT NULL
    UNION ALL
    SELECT from_id AS account_id, -amount AS delta FROM roachbank.transfers WHERE from_id IS NOT NULL
  ) AS deltas
  GROUP BY account_id
),
mismatched AS (
  SELECT a.id, a.balance, COALESCE(j.net, 0) AS journal
  FROM roachbank.accounts AS a FULL JOIN journal AS j ON j.account_id = a.id
  WHERE a.id IS NULL OR a.balance <> COALESCE(j.net, 0)
)
SELECT
  (SELECT count(*) FROM roachbank.accounts) AS accounts,
  (SELECT count(*) FROM roachbank.transfers) AS transfers,
  (SELECT COALESCE(sum(balance), 0) FROM roachbank.accounts)::TEXT AS total_balance,
  (SELECT COALESCE(sum(amount), 0) FROM roachbank.transfers WHERE from_id IS NULL)::TEXT AS money_in,
  (SELECT COALESCE(sum(amount), 0) FROM roachbank.transfers WHERE to_id IS NULL)::TEXT AS money_out,
  (SELECT count(*) FROM roachbank.accounts WHERE balance < 0) AS negative,
  (SELECT count(*) FROM roachbank.transfers WHERE (from_id IS NULL AND to_id IS NULL) OR from_id = to_id) AS malformed,
  (SELECT count(*) FROM mismatched) AS mismatched_count,
  (SELECT json_agg(json_build_object('id', m.id, 'balance', m.balance::TEXT, 'journal', m.journal::TEXT))
     FROM (SELECT * FROM mismatched ORDER BY id LIMIT 10) AS m) AS mismatched`;

interface VerifyRow {
  accounts: string;
  transfers: string;
  total_balance: string;
  money_in: string;
  money_out: string;
  negative: string;
  malformed: string;
  mismatched_count: string;
  mismatched: { id: string | null; balance: string | null; journal: string }[] | null;
}

/**
 * Checks the bank's invariants in one set-based statement (one consistent
 * snapshot). Both flavors call this: it is one piece of SQL for every surface.
 *
 * @example
 * const report = await verifyInvariants(pool); // { ok: true, accounts: 2, ... }
 */
export async function verifyInvariants(queryable: pg.Pool | pg.ClientBase): Promise<VerifyReport> {
  const started = performance.now();
  const { rows } = await queryable.query<VerifyRow>({ name: 'roachbank_verify', text: verifySql });
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
    elapsedMs: Math.round(performance.now() - started),
  };
  const ok =
    report.mismatchedCount === 0 &&
    report.negativeCount === 0 &&
    report.malformedTransfers === 0 &&
    totalBalance === moneyIn - moneyOut;
  return { ok, ...report };
}
