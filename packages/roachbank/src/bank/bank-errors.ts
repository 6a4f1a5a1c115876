import { RoachbankError } from '../errors/roachbank-error.js';
import { sqlState } from '../txn/classify-error.js';
import { journalRaceMarker } from './movement-statements.js';

/** ACCOUNT_NOT_FOUND for an id that names no account (or, for money movements, no open one). */
export function accountNotFound(id: string, which: 'any' | 'open' = 'any'): RoachbankError {
  return new RoachbankError('ACCOUNT_NOT_FOUND', `no ${which === 'open' ? 'open ' : ''}account ${id}`);
}

/** INSUFFICIENT_FUNDS, with what the account has available (its balance less what its holds reserve) and its credit limit. */
export function insufficientFunds(id: string, available: bigint, amount: bigint, creditLimit = 0n): RoachbankError {
  const credit = creditLimit > 0n ? ` and a credit limit of ${creditLimit}` : '';
  return new RoachbankError('INSUFFICIENT_FUNDS', `account ${id} has ${available} available${credit}, cannot debit ${amount}`);
}

/** CURRENCY_MISMATCH: the two accounts of a movement are in different currencies. */
export function currencyMismatch(fromId: string, toId: string): RoachbankError {
  return new RoachbankError(
    'CURRENCY_MISMATCH',
    `accounts ${fromId} and ${toId} are in different currencies: move money between currencies as an atomic group through an exchange account in each`,
  );
}

/**
 * BALANCE_LIMIT when a credit would take a balance past INT8 (SQLSTATE 22003): a
 * well-formed request the bank's state refuses, so a 409, not a 400.
 */
export function balanceOverflow(cause?: unknown): RoachbankError {
  return new RoachbankError('BALANCE_LIMIT', 'the balance would exceed 2^63 - 1', { cause });
}

/** REVERSAL_EXCEEDS_ORIGINAL, with what is left to reverse. */
export function reversalExceeds(transferId: string, left: bigint, amount: bigint): RoachbankError {
  return new RoachbankError(
    'REVERSAL_EXCEEDS_ORIGINAL',
    `transfer ${transferId} has ${left} left to reverse, cannot reverse ${amount}`,
  );
}

/** Whether the database refused a statement for the reversals of one row adding up to more than it (a race the statement retries). */
export function isReversalOvershoot(error: unknown): boolean {
  if (sqlState(error) !== '23514') return false;
  const { constraint, message } = error as { constraint?: string; message?: string };
  return constraint === 'reversed_amounts_within_original' || /reversed <= original/.test(message ?? '');
}

/**
 * A batch statement that stopped itself because a twin request committed one of its ids
 * first (`journalRaceGuard` in movement-statements.ts): sent again, it sees the twin.
 */
export function isJournalRace(error: unknown): boolean {
  return sqlState(error) === '22P02' && ((error as { message?: string }).message ?? '').includes(journalRaceMarker);
}

/**
 * The database's refusals that have a bank meaning: 22003 (an INT8 overflow)
 * and 23514 (the CHECK that keeps balances ≥ 0, the last word on overdrafts, or
 * the one that keeps reversals within their original).
 * Anything else is returned as it is. The database's error stays the `cause`.
 */
export function translateDatabaseError(error: unknown): unknown {
  const state = sqlState(error);
  if (state === '22003') return balanceOverflow(error);
  if (isReversalOvershoot(error))
    return new RoachbankError('REVERSAL_EXCEEDS_ORIGINAL', 'the reversals would add up to more than the movement', {
      cause: error,
    });
  if (state === '23514')
    return new RoachbankError('INSUFFICIENT_FUNDS', 'the debit would take a balance below its floor', { cause: error });
  return error;
}

/**
 * Whether the database refused a statement for its data (SQLSTATE class 22, data
 * exception, such as an INT8 overflow; class 23, integrity constraint violation):
 * in a batch, one movement's doing, which the others must not pay for.
 */
export function isDataRefusal(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}
