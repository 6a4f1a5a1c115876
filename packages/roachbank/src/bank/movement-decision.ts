import { RoachbankError } from '../errors/roachbank-error.js';
import { sameAnnotation } from './annotations.js';
import type { Hold, JournalEntry } from './bank.js';
import { accountNotFound, currencyMismatch, insufficientFunds, reversalExceeds } from './bank-errors.js';
import {
  bodyConflict,
  type CheckedMovement,
  type HoldMovement,
  holdConflict,
  type PostMovement,
  type VoidMovement,
} from './movement.js';

/** A movement's accounts (and what it names) as its writer locked them. */
export interface LockedSides {
  /**
   * The source's available balance when locked (balance − its unexpired pending holds);
   * undefined if it is not open. Ignored for a deposit.
   */
  readonly fromAvailable: bigint | undefined;
  /** How far below 0 the source's available balance may go (its credit limit); 0 when not given. */
  readonly fromCreditLimit?: bigint;
  /** Whether the accounts share one currency; true when not given (one account, or not read). */
  readonly currenciesMatch?: boolean;
  /** Whether the destination is open. Ignored for a withdrawal. */
  readonly toOpen: boolean;
  /** A reversal's: what is left to reverse of its original, as locked; undefined when there is no original. */
  readonly reversible?: bigint | undefined;
}

/**
 * What the journal holds under the movement's id, as read after the locks were taken:
 * the row, `null` when it holds none, or `'unread'` when the writer has not read it
 * (it then relies on the journal's unique id to keep a second row out).
 */
export type JournalWord = JournalEntry | null | 'unread';

/** The same for a hold: the row (status as of the read, `expired` once its time passed), none, or not read. */
export type HoldWord = Hold | null | 'unread';

/** What the writer read after its locks, by kind. */
export interface Seen {
  /** Deposit, withdrawal, transfer, post, reversal: the journal row under the id. */
  readonly journaled?: JournalWord;
  /** Hold: the hold under the id. Post and void: the hold they settle. */
  readonly hold?: HoldWord;
  /** Post: the journal row of the hold's post, when the hold was posted under another id. */
  readonly posted?: JournalEntry | undefined;
}

/** The outcome of a movement, decided; `read the journal` when only the journal can make a refusal true. */
export type MovementDecision =
  | { readonly action: 'apply' }
  | { readonly action: 'replay'; readonly transfer: JournalEntry }
  | { readonly action: 'replay hold'; readonly hold: Hold }
  | { readonly action: 'refuse'; readonly error: RoachbankError }
  | { readonly action: 'read the journal' };

/**
 * The money decision, the one place that states it (DESIGN §6, §8), for every kind.
 * In order:
 * 1. what is already recorded under the id answers: a replay of the same body, or
 *    IDEMPOTENCY_CONFLICT (`bodyConflict`, `holdConflict`); what happened once is the
 *    answer forever. A post or void asks the hold it settles: posted with this amount
 *    is a replay of that post, anything else HOLD_NOT_PENDING naming the status;
 *    past its `expiresAt`, HOLD_EXPIRED; a post of more than it reserved, POST_EXCEEDS_HOLD.
 *    A reversal may not take the reversed total past the original (REVERSAL_EXCEEDS_ORIGINAL);
 * 2. the source must be open, then the destination (ACCOUNT_NOT_FOUND, source first), and
 *    both in one currency (CURRENCY_MISMATCH);
 * 3. the source must have the amount available (INSUFFICIENT_FUNDS): every debit is
 *    checked against balance − held + its credit limit; a post is not (its money is
 *    reserved), a void only releases;
 * 4. otherwise the movement is applied.
 * A refusal is given only when what it depends on was read after the locks: the
 * journal (or the hold) holding nothing under the id. A twin request, or an earlier
 * attempt of this one, may have committed while the locks were awaited, and then the
 * answer is its replay, not a refusal.
 *
 * Pure: writers call it with what they saw. The movement statements enforce it
 * atomically in SQL (`moveSql`, `moveBatchSql`) and name this function where they do.
 *
 * @example
 * decideMovement(m, { fromAvailable: 50n, toOpen: true }, { journaled: null }) // refuse: INSUFFICIENT_FUNDS when m.amount > 50
 */
export function decideMovement(request: CheckedMovement, locked: LockedSides, seen: Seen): MovementDecision {
  // Not given is not read: `null` is the word that nothing is there.
  const { journaled = 'unread', hold = 'unread' } = seen;
  switch (request.kind) {
    case 'hold':
      return decideHold(request, locked, hold);
    case 'void':
      return decideVoid(request, locked, hold);
    case 'post':
      return decidePost(request, locked, { journaled, hold, posted: seen.posted });
    default: {
      if (journaled !== null && journaled !== 'unread') return replayOrConflict(bodyConflict(journaled, request), journaled);
      let refusal: RoachbankError | undefined;
      if (request.kind === 'reversal') {
        const left = locked.reversible;
        if (left === undefined) refusal = new RoachbankError('TRANSFER_NOT_FOUND', `no transfer ${request.reversalOf}`);
        else if (request.amount > left) refusal = reversalExceeds(request.reversalOf, left, request.amount);
      }
      refusal ??= accountsRefusal(request, locked, request.fromId !== null);
      return refusedOrApplied(refusal, journaled === null);
    }
  }
}

function decideHold(request: HoldMovement, locked: LockedSides, hold: HoldWord): MovementDecision {
  if (hold !== null && hold !== 'unread') {
    const conflict = holdConflict(hold, request);
    return conflict ? { action: 'refuse', error: conflict } : { action: 'replay hold', hold };
  }
  return refusedOrApplied(accountsRefusal(request, locked, true), hold === null);
}

function decideVoid(request: VoidMovement, locked: LockedSides, hold: HoldWord): MovementDecision {
  if (hold === 'unread') return { action: 'read the journal' };
  if (hold === null) return { action: 'refuse', error: holdNotFound(request.holdId) };
  if (hold.status === 'voided') return { action: 'replay hold', hold };
  const settled = settledRefusal(hold);
  if (settled) return { action: 'refuse', error: settled };
  return refusedOrApplied(accountsRefusal(request, locked, false), true);
}

function decidePost(
  request: PostMovement,
  locked: LockedSides,
  { journaled = 'unread', hold = 'unread', posted }: Seen,
): MovementDecision {
  if (journaled !== null && journaled !== 'unread') {
    // The row under this id is the hold's post: posted again with its amount, it answers
    // what happened (or, asked with another reference or metadata, IDEMPOTENCY_CONFLICT).
    if (journaled.holdId === request.holdId && journaled.amount !== request.amount) {
      return { action: 'refuse', error: postedAs(request.holdId, journaled.amount) };
    }
    return replayOrConflict(bodyConflict(journaled, request), journaled);
  }
  if (hold === 'unread') return { action: 'read the journal' };
  if (hold === null) return { action: 'refuse', error: holdNotFound(request.holdId) };
  if (hold.status === 'posted') {
    if (posted === undefined) return { action: 'read the journal' };
    // Posted under another id: the same amount, reference and metadata is a replay of that post.
    if (hold.postedAmount === request.amount && posted.id === hold.transferId) {
      if (sameAnnotation(posted, request)) return { action: 'replay', transfer: posted };
      const error = new RoachbankError(
        'HOLD_NOT_PENDING',
        `hold ${hold.id} was posted for ${hold.postedAmount} with another reference or metadata`,
      );
      return { action: 'refuse', error };
    }
    return { action: 'refuse', error: postedAs(request.holdId, hold.postedAmount) };
  }
  const settled = settledRefusal(hold);
  if (settled) return { action: 'refuse', error: settled };
  if (request.amount > hold.amount) {
    return {
      action: 'refuse',
      error: new RoachbankError('POST_EXCEEDS_HOLD', `hold ${hold.id} reserves ${hold.amount}, cannot post ${request.amount}`),
    };
  }
  return refusedOrApplied(accountsRefusal(request, locked, false), journaled === null);
}

/** Why a hold that is not pending cannot be posted or voided: its status, named. */
function settledRefusal(hold: Hold): RoachbankError | undefined {
  if (hold.status === 'expired') {
    return new RoachbankError(
      'HOLD_EXPIRED',
      `hold ${hold.id} expired at ${hold.expiresAt?.toISOString()}: it holds nothing now`,
    );
  }
  if (hold.status === 'voided') return new RoachbankError('HOLD_NOT_PENDING', `hold ${hold.id} was voided`);
  if (hold.status === 'posted') return postedAs(hold.id, hold.postedAmount);
  return undefined;
}

function postedAs(holdId: string, amount: bigint | null): RoachbankError {
  return new RoachbankError('HOLD_NOT_PENDING', `hold ${holdId} was posted${amount === null ? '' : ` for ${amount}`}`);
}

/** HOLD_NOT_FOUND for an id that names no hold. */
export function holdNotFound(id: string): RoachbankError {
  return new RoachbankError('HOLD_NOT_FOUND', `no hold ${id}`);
}

function replayOrConflict(conflict: RoachbankError | undefined, journaled: JournalEntry): MovementDecision {
  return conflict ? { action: 'refuse', error: conflict } : { action: 'replay', transfer: journaled };
}

/** A refusal stands only on the word, read after the locks, that nothing is recorded under the id. */
function refusedOrApplied(refusal: RoachbankError | undefined, absent: boolean): MovementDecision {
  if (refusal === undefined) return { action: 'apply' };
  return absent ? { action: 'refuse', error: refusal } : { action: 'read the journal' };
}

/** Steps 2 and 3: why these accounts refuse the movement, if they do; `debits` when the source's available balance must cover it. */
function accountsRefusal(
  request: CheckedMovement,
  { fromAvailable, fromCreditLimit = 0n, currenciesMatch = true, toOpen }: LockedSides,
  debits: boolean,
): RoachbankError | undefined {
  if (request.fromId !== null && fromAvailable === undefined) return accountNotFound(request.fromId, 'open');
  if (request.toId !== null && !toOpen) return accountNotFound(request.toId, 'open');
  if (!currenciesMatch) return currencyMismatch(request.fromId!, request.toId!);
  if (debits && request.fromId !== null && fromAvailable! + fromCreditLimit < request.amount)
    return insufficientFunds(request.fromId, fromAvailable!, request.amount, fromCreditLimit);
  return undefined;
}
