import { RoachbankError } from '../errors/roachbank-error.js';
import { sqlState } from '../txn/classify-error.js';

/** ACCOUNT_NOT_FOUND for an id that names no account (or, for money movements, no open one). */
export function accountNotFound(id: string, which: 'any' | 'open' = 'any'): RoachbankError {
  return new RoachbankError('ACCOUNT_NOT_FOUND', `no ${which === 'open' ? 'open ' : ''}account ${id}`);
}

/** INSUFFICIENT_FUNDS, with what the account holds. */
export function insufficientFunds(id: string, balance: bigint, amount: bigint): RoachbankError {
  return new RoachbankError('INSUFFICIENT_FUNDS', `account ${id} holds ${balance}, cannot debit ${amount}`);
}

/** INVALID_ARGUMENT when a credit would take a balance past INT8 (SQLSTATE 22003). */
export function balanceOverflow(cause?: unknown): RoachbankError {
  return new RoachbankError('INVALID_ARGUMENT', 'the balance would exceed 2^63 - 1', { cause });
}

/**
 * The database's refusals that have a bank meaning: 22003 (an INT8 overflow)
 * and 23514 (the CHECK that keeps balances ≥ 0, the last word on overdrafts).
 * Anything else is returned as it is. The database's error stays the `cause`.
 */
export function translateDatabaseError(error: unknown): unknown {
  const state = sqlState(error);
  if (state === '22003') return balanceOverflow(error);
  if (state === '23514')
    return new RoachbankError('INSUFFICIENT_FUNDS', 'the debit would take a balance below 0', { cause: error });
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
