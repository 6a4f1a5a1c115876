import type pg from 'pg';
import type { Bank } from '../../packages/roachbank/src/bank/bank.js';

export interface TransferRequest {
  readonly id: string;
  readonly fromId: string;
  readonly toId: string;
  readonly amount: bigint;
  /** A post of this hold (its journal row is the movement). */
  readonly holdId?: string;
  /** A reversal of this journal row. */
  readonly reversalOf?: string;
}

/** A hold the client placed (or tried to), the statuses it may end in, and the post it sent, if any. */
export interface HoldExpectation {
  readonly id: string;
  readonly allowed: readonly ('pending' | 'posted' | 'voided' | 'absent')[];
  readonly transferId?: string;
}

/** What the client knows at the end of a run, to hold the database to. */
export interface ClientKnowledge {
  readonly accounts: readonly string[];
  readonly openingBalance: bigint;
  readonly acknowledged: ReadonlyMap<string, TransferRequest>;
  readonly failed: ReadonlyMap<string, TransferRequest>;
  /** What each failed transfer was told (its code), to name the false answers. */
  readonly failedCodes: ReadonlyMap<string, string>;
  /** Transfers still of unknown outcome after resolution. */
  readonly unknownLeft: number;
  readonly holds: readonly HoldExpectation[];
  /** Atomic groups, by their items' ids. */
  readonly groups: readonly (readonly string[])[];
  /** Sessions `idle in transaction` once the workers were done. */
  readonly idleInTransaction: number;
  /** Connections still checked out of (or waited for in) the pools once the workers were done. */
  readonly checkedOut: number;
}

export interface ChaosAudit {
  readonly total: { readonly expected: string; readonly actual: string };
  readonly balancesNotMatchingJournal: number;
  readonly negativeBalances: number;
  readonly acknowledgedMissing: number;
  readonly acknowledgedAltered: number;
  readonly failedButPresent: number;
  /** Journal entries the client was never told succeeded: money moved behind its back. */
  readonly unacknowledgedInJournal: number;
  /** Accounts whose balance differs from openings plus the acknowledged transfers. */
  readonly balancesNotMatchingClient: number;
  /** Holds whose status (or post) is not what the client was told. */
  readonly holdsNotMatchingClient: number;
  /** Atomic groups of which some items are in the journal and some are not. */
  readonly groupsPartlyApplied: number;
  /** Journal rows that name a hold or a row other than the one the client posted or reversed. */
  readonly linksAltered: number;
  readonly unknownLeft: number;
  readonly idleInTransaction: number;
  readonly checkedOut: number;
  /** The bank's own `verify`, as a second opinion. */
  readonly verifyOk: boolean;
  readonly problems: string[];
}

/**
 * The audit of a fault-injection run, in its own SQL (independent of the
 * bank's): conservation, balances against the journal, no overdraft, and
 * the journal against what the client was told, transfer by transfer.
 */
export async function auditChaos(admin: pg.Pool, bank: Bank, known: ClientKnowledge): Promise<ChaosAudit> {
  const balances = new Map(
    (await admin.query<{ id: string; balance: string }>('SELECT id, balance FROM roachbank.accounts')).rows.map((r) => [
      r.id,
      BigInt(r.balance),
    ]),
  );
  const journal = new Map(
    (
      await admin.query<{
        id: string;
        from_id: string;
        to_id: string;
        amount: string;
        hold_id: string | null;
        reversal_of: string | null;
      }>('SELECT id, from_id, to_id, amount, hold_id, reversal_of FROM roachbank.transfers WHERE from_id IS NOT NULL')
    ).rows.map((r) => [r.id, r]),
  );
  const { rows: drift } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM roachbank.accounts a
       LEFT JOIN (SELECT to_id AS id, sum(amount) AS amount FROM roachbank.transfers WHERE to_id IS NOT NULL GROUP BY to_id) c ON c.id = a.id
       LEFT JOIN (SELECT from_id AS id, sum(amount) AS amount FROM roachbank.transfers WHERE from_id IS NOT NULL GROUP BY from_id) d ON d.id = a.id
      WHERE a.balance <> coalesce(c.amount, 0) - coalesce(d.amount, 0)`,
  );

  const expectedTotal = known.openingBalance * BigInt(known.accounts.length);
  const actualTotal = [...balances.values()].reduce((sum, b) => sum + b, 0n);
  let acknowledgedMissing = 0;
  let acknowledgedAltered = 0;
  const model = new Map(known.accounts.map((id) => [id, known.openingBalance]));
  for (const request of known.acknowledged.values()) {
    const row = journal.get(request.id);
    if (!row) acknowledgedMissing++;
    else if (row.from_id !== request.fromId || row.to_id !== request.toId || BigInt(row.amount) !== request.amount)
      acknowledgedAltered++;
    model.set(request.fromId, (model.get(request.fromId) ?? 0n) - request.amount);
    model.set(request.toId, (model.get(request.toId) ?? 0n) + request.amount);
  }
  let linksAltered = 0;
  for (const request of known.acknowledged.values()) {
    const row = journal.get(request.id);
    if (row && (row.hold_id !== (request.holdId ?? null) || row.reversal_of !== (request.reversalOf ?? null))) linksAltered++;
  }
  const holdRows = new Map(
    (
      await admin.query<{ id: string; status: string; transfer_id: string | null }>(
        `SELECT id, CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END AS status, transfer_id
         FROM roachbank.holds`,
      )
    ).rows.map((r) => [r.id, r]),
  );
  let holdsNotMatchingClient = 0;
  for (const expected of known.holds) {
    const row = holdRows.get(expected.id);
    const status = (row?.status ?? 'absent') as HoldExpectation['allowed'][number];
    const postedElsewhere = row?.status === 'posted' && row.transfer_id !== expected.transferId;
    if (!expected.allowed.includes(status) || postedElsewhere) holdsNotMatchingClient++;
  }
  const groupsPartlyApplied = known.groups.filter((ids) => new Set(ids.map((id) => journal.has(id))).size > 1).length;
  const falseFailures = [...known.failed.keys()].filter((id) => journal.has(id));
  const failedButPresent = falseFailures.length;
  const unacknowledgedInJournal = [...journal.keys()].filter((id) => !known.acknowledged.has(id)).length;
  const balancesNotMatchingClient = [...model].filter(([id, balance]) => balances.get(id) !== balance).length;
  const verifyOk = (await bank.verify({ asOf: 'latest' })).ok;

  const audit = {
    total: { expected: String(expectedTotal), actual: String(actualTotal) },
    balancesNotMatchingJournal: drift[0]?.n ?? 0,
    negativeBalances: [...balances.values()].filter((b) => b < 0n).length,
    acknowledgedMissing,
    acknowledgedAltered,
    failedButPresent,
    unacknowledgedInJournal,
    balancesNotMatchingClient,
    holdsNotMatchingClient,
    groupsPartlyApplied,
    linksAltered,
    unknownLeft: known.unknownLeft,
    idleInTransaction: known.idleInTransaction,
    checkedOut: known.checkedOut,
    verifyOk,
  };
  const problems: string[] = [];
  if (expectedTotal !== actualTotal) problems.push(`money not conserved: ${actualTotal}, expected ${expectedTotal}`);
  for (const [name, count] of Object.entries(audit)) {
    if (typeof count === 'number' && count > 0) problems.push(`${name}: ${count}`);
  }
  if (!verifyOk) problems.push('the bank’s verify failed');
  if (failedButPresent > 0) {
    const byCode: Record<string, number> = {};
    for (const id of falseFailures) {
      const code = known.failedCodes.get(id) ?? '?';
      byCode[code] = (byCode[code] ?? 0) + 1;
    }
    problems.push(`answered as failed although in the journal, by answer: ${JSON.stringify(byCode)}`);
  }
  return { ...audit, problems };
}
