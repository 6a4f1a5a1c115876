import type { TransferOutcome } from './bank.js';
import { accountNotFound, insufficientFunds } from './bank-errors.js';
import { type Movement, replayOf } from './movement.js';
import type { MovementRow } from './movement-statements.js';

/**
 * What a movement statement's row means for the caller, in the order the
 * single statement always decided it: a movement it journaled; else an id
 * already in the journal (a replay, or IDEMPOTENCY_CONFLICT); else an account
 * that is not open (the source first); else insufficient funds, with the
 * balance it saw. `undefined` when the checks passed but another request with
 * the same id committed first: only the journal, read again, can tell.
 *
 * @example
 * const outcome = answerOf(movement, row) ?? replayed(await bank.getTransfer(movement.id));
 */
export function answerOf(request: Movement, row: MovementRow): TransferOutcome | undefined {
  const { id, fromId, toId, amount } = request;
  if (row.created_at) return { transfer: { id, fromId, toId, amount, createdAt: row.created_at }, replayed: false };
  if (row.existing_amount !== null && row.existing_created_at) {
    const existing = {
      id,
      fromId: row.existing_from_id,
      toId: row.existing_to_id,
      amount: BigInt(row.existing_amount),
      createdAt: row.existing_created_at,
    };
    return { transfer: replayOf(existing, request), replayed: true };
  }
  if (!row.from_open) throw accountNotFound(fromId!, 'open');
  if (!row.to_open) throw accountNotFound(toId!, 'open');
  const balance = BigInt(row.from_balance ?? 0);
  if (fromId !== null && balance < amount) throw insufficientFunds(fromId, balance, amount);
  return undefined;
}
