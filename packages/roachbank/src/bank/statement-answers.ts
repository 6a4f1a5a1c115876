import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { Hold, JournalEntry, MoveAnswer, MovementResult } from './bank.js';
import { type CheckedMovement, journalBody } from './movement.js';
import { decideMovement } from './movement-decision.js';
import type { StatementAnswerRow } from './movement-statements.js';
import {
  chainOf,
  type HoldRow,
  holdsByIdSql,
  reversedByIdSql,
  reversedMap,
  type TransferRow,
  toHold,
  toTransfer,
  transfersByIdSql,
} from './pg-rows.js';

// A movement statement's rows turned into answers: the ones it applied as they were
// asked, the others by `decideMovement` with what was read after it.

/** Reads the journal and holds for the answers, on the pool or inside a group's transaction. */
export interface Reader {
  transfers(ids: readonly string[]): Promise<Map<string, JournalEntry>>;
  holds(ids: readonly string[]): Promise<Map<string, Hold>>;
  /** How much of each of these journal rows has been reversed (absent: nothing). */
  reversed(ids: readonly string[]): Promise<Map<string, bigint>>;
}

export function clientReader(client: pg.ClientBase): Reader {
  return {
    transfers: async (ids) => {
      const { rows } = await client.query<TransferRow>({
        name: 'roachbank_transfers_by_id',
        text: transfersByIdSql,
        values: [ids],
      });
      return new Map(rows.map((row) => [row.id, toTransfer(row)]));
    },
    holds: async (ids) => {
      const { rows } = await client.query<HoldRow>({ name: 'roachbank_holds_by_id', text: holdsByIdSql, values: [ids] });
      return new Map(rows.map((row) => [row.id, toHold(row)]));
    },
    reversed: async (ids) =>
      reversedMap(
        (
          await client.query<{ id: string; reversed: string }>({
            name: 'roachbank_reversed_by_id',
            text: reversedByIdSql,
            values: [ids],
          })
        ).rows,
      ),
  };
}

/**
 * Each movement's answer from its statement row. The ones the statement did not
 * apply (refused, already recorded, or raced by a twin) are decided with the
 * journal and the holds as read *after* the statement.
 *
 * Why after, in a statement of its own: at READ COMMITTED PostgreSQL takes one
 * snapshot per statement, and after waiting on a row lock it re-reads only the
 * locked rows (EvalPlanQual), not the journal. A twin request (another
 * process, or this bank's own earlier attempt that committed late) holds those
 * locks until it commits: our statement then sees the balance it drained but not
 * the journal row it wrote, and would refuse a movement that happened. A later
 * statement's snapshot includes everything that committed before our locks were
 * granted, so a refusal it confirms is true at a moment after the locks were taken.
 * On CockroachDB a statement that meets a lock conflict is retried with a new
 * snapshot and READ COMMITTED "prevents anomalies within single statements"
 * (https://www.cockroachlabs.com/docs/v24.1/read-committed;
 * docs/RFCS/20230122_read_committed_isolation.md, per-statement read snapshots),
 * and at SERIALIZABLE the statement's reads are consistent anyway: there the later
 * read only confirms. What is left to reverse is read there too, so a reversal is
 * refused for its original before its funds, in the decision's order, even when the
 * statement's snapshot predates the first reversal's total. It costs one round trip
 * per kind of record read, on the refusal and replay paths only.
 */
export async function answers(
  items: readonly CheckedMovement[],
  rows: readonly StatementAnswerRow[],
  reader: Reader,
): Promise<MovementResult<MoveAnswer>[]> {
  const unsettled = items.filter((_, i) => !rows[i]!.applied_at);
  let journal = new Map<string, JournalEntry>();
  let holds = new Map<string, Hold>();
  let reversed = new Map<string, bigint>();
  if (unsettled.length > 0) {
    try {
      const holdIds = unsettled.flatMap((m) =>
        m.kind === 'hold' ? [m.id] : m.kind === 'post' || m.kind === 'void' ? [m.holdId] : [],
      );
      const journalIds = unsettled.filter((m) => m.kind !== 'hold' && m.kind !== 'void').map((m) => m.id);
      if (journalIds.length > 0) journal = await reader.transfers(journalIds);
      if (holdIds.length > 0) holds = await reader.holds(holdIds);
      const originals = unsettled.flatMap((m) => (m.kind === 'reversal' ? [m.reversalOf] : []));
      if (originals.length > 0) reversed = await reader.reversed(originals);
      const postedElsewhere = unsettled.flatMap((m) => {
        const transferId = m.kind === 'post' && !journal.has(m.id) ? holds.get(m.holdId)?.transferId : undefined;
        return transferId ? [transferId] : [];
      });
      if (postedElsewhere.length > 0) for (const [id, row] of await reader.transfers(postedElsewhere)) journal.set(id, row);
    } catch (error) {
      // Without the journal's word no refusal is known to be true, and no replay is known either.
      return items.map((item, i) =>
        rows[i]!.applied_at ? appliedNow(item, rows[i]!) : { ok: false, error: unreadJournal(item, error) },
      );
    }
  }
  return items.map((item, i) => {
    const row = rows[i]!;
    if (row.applied_at) return appliedNow(item, row);
    const locked = {
      fromAvailable: row.from_open && row.from_available !== null ? BigInt(row.from_available) : undefined,
      fromCreditLimit: row.from_credit_limit === null ? 0n : BigInt(row.from_credit_limit),
      currenciesMatch: row.currencies_match !== false,
      toOpen: row.to_open === true,
      reversible: item.kind === 'reversal' ? item.original.amount - (reversed.get(item.reversalOf) ?? 0n) : undefined,
    };
    const hold =
      item.kind === 'hold'
        ? holds.get(item.id)
        : item.kind === 'post' || item.kind === 'void'
          ? holds.get(item.holdId)
          : undefined;
    const seen = {
      journaled: journal.get(item.id) ?? null,
      hold: hold ?? null,
      posted: hold?.transferId ? journal.get(hold.transferId) : undefined,
    };
    const decision = decideMovement(item, locked, seen);
    if (decision.action === 'replay') return { ok: true, outcome: { transfer: decision.transfer, replayed: true } };
    if (decision.action === 'replay hold') return { ok: true, outcome: { hold: decision.hold, replayed: true } };
    if (decision.action === 'refuse') return { ok: false, error: decision.error };
    // The statement refused what the decision accepts, or met a committed row under the id
    // that a later read cannot find (the journal is append-only): a bug, never an answer.
    return {
      ok: false,
      error: new Error(
        `${item.kind} ${item.id} was not applied, yet nothing in the journal, its hold or its accounts refuses it`,
      ),
    };
  });
}

/**
 * The answer to a movement this statement did not apply when the journal could not
 * be read after it: this call wrote nothing for it, but another request with the same id (a
 * twin, or an earlier attempt of this one) may have. Not a refusal, and not definite.
 */
function unreadJournal(item: CheckedMovement, cause: unknown): RoachbankError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RoachbankError(
    'DATABASE_UNAVAILABLE',
    `the journal could not be read to answer ${item.kind} ${item.id} (${why}): this call wrote nothing for it; repeat the same id to learn whether another request with it did`,
    { cause },
  );
}

/** The answer to a movement this statement applied: its row (or hold) as asked, stamped by the database. */
function appliedNow(item: CheckedMovement, row: StatementAnswerRow): MovementResult<MoveAnswer> {
  const at = row.applied_at!;
  switch (item.kind) {
    case 'hold': {
      const { id, fromId, toId, amount, expiresInMs, reference, metadata } = item;
      const expiresAt = expiresInMs === null ? null : new Date(at.getTime() + expiresInMs);
      const hold: Hold = {
        id,
        fromId,
        toId,
        amount,
        status: 'pending',
        createdAt: at,
        expiresAt,
        postedAmount: null,
        transferId: null,
        reference,
        metadata,
      };
      return { ok: true, outcome: { hold, replayed: false } };
    }
    case 'void':
      return { ok: true, outcome: { hold: { ...item.hold, status: 'voided' }, replayed: false } };
    default: {
      const transfer = { id: item.id, ...journalBody(item), currency: row.currency!, createdAt: at, ...chainOf(row) };
      return { ok: true, outcome: { transfer, replayed: false } };
    }
  }
}
