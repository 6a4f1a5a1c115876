import type { RoachbankError } from '../errors/roachbank-error.js';
import type { Transfer, TransferOutcome } from './bank.js';
import { accountNotFound, insufficientFunds } from './bank-errors.js';
import { type Movement, replayOf } from './movement.js';
import type { MovementRow } from './movement-statements.js';

/**
 * What a movement statement's row says, before the journal has had its word:
 * - `{ outcome }`: the statement journaled the movement;
 * - `{ refusal }`: an account that is not open (the source first), or
 *   insufficient funds with the balance it saw: true only if the id is still
 *   absent from the journal now (`settledAnswer`);
 * - `{ refusal: undefined }`: the id was already journaled as of the statement's
 *   snapshot, or the checks passed but another request with the same id committed
 *   first: only the journal, read again, can tell a replay from IDEMPOTENCY_CONFLICT.
 *   (The row does not carry the journaled body: that keeps a batch's answer small,
 *   see `MovementRow`; a replay costs one more read.)
 *
 * @example
 * const answer = answerOf(movement, row);
 * const outcome = 'outcome' in answer ? answer.outcome : settledAnswer(movement, answer.refusal, await journaled(movement.id));
 */
export function answerOf(
  request: Movement,
  row: MovementRow,
): { readonly outcome: TransferOutcome } | { readonly refusal: RoachbankError | undefined } {
  const { id, fromId, toId, amount } = request;
  if (row.created_at) return { outcome: { transfer: { id, fromId, toId, amount, createdAt: row.created_at }, replayed: false } };
  if (row.journaled) return { refusal: undefined };
  if (!row.from_open) return { refusal: accountNotFound(fromId!, 'open') };
  if (!row.to_open) return { refusal: accountNotFound(toId!, 'open') };
  const balance = BigInt(row.from_balance ?? 0);
  if (fromId !== null && balance < amount) return { refusal: insufficientFunds(fromId, balance, amount) };
  return { refusal: undefined };
}

/**
 * The final answer to a movement the statement did not journal, from the journal
 * as read *after* that statement: a replay (or IDEMPOTENCY_CONFLICT) when a row
 * carries its id, else the statement's refusal.
 *
 * Why the read must come after, in a statement of its own: at READ COMMITTED
 * PostgreSQL takes one snapshot per statement, and after waiting on a row lock it
 * re-reads only the locked account rows (EvalPlanQual), not the journal. A twin
 * request (another process, or this bank's own earlier attempt that committed
 * late) holds those locks until it commits: our statement then sees the balance it
 * drained but not the journal row it wrote, and would refuse a movement that
 * happened. A later statement's snapshot includes everything that committed
 * before our locks were granted, so a refusal it confirms is true at a moment
 * after the locks were taken. On CockroachDB a statement that meets a lock
 * conflict is retried with a new snapshot and READ COMMITTED "prevents anomalies
 * within single statements" (https://www.cockroachlabs.com/docs/v24.1/read-committed;
 * docs/RFCS/20230122_read_committed_isolation.md, per-statement read snapshots),
 * and at SERIALIZABLE the statement's reads are consistent anyway: there the
 * later read only confirms. It costs one round trip, on the refusal path only.
 *
 * @example
 * settledAnswer(movement, insufficientFunds(a, 0n, 100n), await bank.findTransfer(movement.id))
 */
export function settledAnswer(
  request: Movement,
  refusal: RoachbankError | undefined,
  journaled: Transfer | undefined,
): TransferOutcome {
  if (journaled) return { transfer: replayOf(journaled, request), replayed: true };
  if (refusal) throw refusal;
  // The statement's ON CONFLICT met a committed row that a later read cannot find: the
  // journal is append-only, so this is a bug or a hand edit, never an answer to give.
  throw new Error(`transfer ${request.id} conflicted on its id but is not in the journal`);
}
