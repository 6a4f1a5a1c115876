import { RoachbankError } from '../errors/roachbank-error.js';
import type { Transfer } from './bank.js';
import { idOrNew, openingIdOf, parseId } from './ids.js';
import { parseAmount } from './money.js';

/** A checked request to move money: a transfer, a deposit (`fromId` null) or a withdrawal (`toId` null). */
export interface Movement {
  readonly id: string;
  readonly fromId: string | null;
  readonly toId: string | null;
  readonly amount: bigint;
}

/**
 * Checks and normalizes a money movement before any SQL runs: UUIDs, an amount
 * from 1 to 2^63 − 1, at least one account, two different ones. A missing or
 * null side is money entering or leaving. Bad input is INVALID_ARGUMENT; the id of
 * the opening deposit of one of its accounts (`openingIdOf`) is IDEMPOTENCY_CONFLICT,
 * so no client can write a row that opening that account would take for its own.
 *
 * @example
 * movement({ fromId: a, toId: b, amount: 100n }) // { id: <fresh uuid>, fromId: a, toId: b, amount: 100n }
 */
export function movement(request: { id?: string; fromId?: string | null; toId?: string | null; amount: unknown }): Movement {
  const fromId = request.fromId == null ? null : parseId(request.fromId, 'source account id');
  const toId = request.toId == null ? null : parseId(request.toId, 'destination account id');
  if (fromId === null && toId === null) {
    throw new RoachbankError('INVALID_ARGUMENT', 'a movement needs a source account, a destination account or both');
  }
  if (fromId !== null && fromId === toId) {
    throw new RoachbankError('INVALID_ARGUMENT', 'source and destination must be different accounts');
  }
  const id = idOrNew(request.id);
  // Derived ids are version 8 (`derivedId`): only those can be an opening id, so the
  // hashes are skipped for the random (version 4) ids callers and the bank make.
  for (const account of id[14] === '8' ? [fromId, toId] : []) {
    if (account !== null && id === openingIdOf(account)) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `transfer id ${id} is reserved for the opening deposit of account ${account}; use another id`,
      );
    }
  }
  return { id, fromId, toId, amount: parseAmount(request.amount) };
}

/**
 * The answer to a movement whose id is already in the journal: the original
 * transfer when the bodies agree, else IDEMPOTENCY_CONFLICT naming what differs.
 */
export function replayOf(existing: Transfer, request: Movement): Transfer {
  const differences: string[] = [];
  const kind = (t: { fromId: string | null; toId: string | null }) =>
    t.fromId === null ? 'deposit' : t.toId === null ? 'withdrawal' : 'transfer';
  if (kind(existing) !== kind(request)) differences.push(`it was a ${kind(existing)}, not a ${kind(request)}`);
  else {
    if (existing.fromId !== request.fromId) differences.push(`source ${existing.fromId}, not ${request.fromId}`);
    if (existing.toId !== request.toId) differences.push(`destination ${existing.toId}, not ${request.toId}`);
  }
  if (existing.amount !== request.amount) differences.push(`amount ${existing.amount}, not ${request.amount}`);
  if (differences.length > 0) {
    throw new RoachbankError(
      'IDEMPOTENCY_CONFLICT',
      `transfer id ${request.id} was already used with another body: ${differences.join('; ')}`,
    );
  }
  return existing;
}
