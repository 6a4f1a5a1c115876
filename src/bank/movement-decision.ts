import type { RoachbankError } from '../errors/roachbank-error.js';
import type { JournalEntry } from './bank.js';
import { accountNotFound, insufficientFunds } from './bank-errors.js';
import { bodyConflict, type CheckedMovement } from './movement.js';

/** A movement's accounts as its writer locked them: absent when the account is not open (or does not exist). */
export interface LockedSides {
  /** The source's balance when locked; undefined if it is not open. Ignored for a deposit. */
  readonly fromBalance: bigint | undefined;
  /** Whether the destination is open. Ignored for a withdrawal. */
  readonly toOpen: boolean;
}

/**
 * What the journal holds under the movement's id, as read after the locks were taken:
 * the row, `null` when it holds none, or `'unread'` when the writer has not read it
 * (it then relies on the journal's unique id to keep a second row out).
 */
export type JournalWord = JournalEntry | null | 'unread';

/** The outcome of a movement, decided; `read the journal` when only the journal can make a refusal true. */
export type MovementDecision =
  | { readonly action: 'journal' }
  | { readonly action: 'replay'; readonly transfer: JournalEntry }
  | { readonly action: 'refuse'; readonly error: RoachbankError }
  | { readonly action: 'read the journal' };

/**
 * The money decision, the one place that states it (DESIGN §6, §8). In order:
 * 1. an id the journal already holds is a replay of the same body, or
 *    IDEMPOTENCY_CONFLICT (`bodyConflict`): what happened once is the answer forever;
 * 2. the source must be open, then the destination (ACCOUNT_NOT_FOUND, source first);
 * 3. the source must hold the amount (INSUFFICIENT_FUNDS, with what it holds);
 * 4. otherwise the movement is journaled.
 * A refusal is given only when the journal was read after the locks and holds no row
 * under the id: a twin request, or an earlier attempt of this one, may have committed
 * while the locks were awaited, and then the answer is its replay, not a refusal.
 *
 * Pure: writers call it with what they saw. The movement statements enforce steps 1–3
 * atomically in SQL (`moveSql`, `moveBatchSql`) and name this function where they do.
 *
 * @example
 * decideMovement(m, { fromBalance: 50n, toOpen: true }, null) // refuse: INSUFFICIENT_FUNDS when m.amount > 50
 */
export function decideMovement(request: CheckedMovement, locked: LockedSides, journaled: JournalWord): MovementDecision {
  if (journaled !== null && journaled !== 'unread') {
    const conflict = bodyConflict(journaled, request);
    return conflict ? { action: 'refuse', error: conflict } : { action: 'replay', transfer: journaled };
  }
  const refusal = accountsRefusal(request, locked);
  if (refusal === undefined) return { action: 'journal' };
  return journaled === null ? { action: 'refuse', error: refusal } : { action: 'read the journal' };
}

/** Steps 2 and 3: why these accounts refuse the movement, if they do. */
function accountsRefusal(request: CheckedMovement, { fromBalance, toOpen }: LockedSides): RoachbankError | undefined {
  if (request.fromId !== null && fromBalance === undefined) return accountNotFound(request.fromId, 'open');
  if (request.toId !== null && !toOpen) return accountNotFound(request.toId, 'open');
  if (request.fromId !== null && fromBalance! < request.amount)
    return insufficientFunds(request.fromId, fromBalance!, request.amount);
  return undefined;
}
