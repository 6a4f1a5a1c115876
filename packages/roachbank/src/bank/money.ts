import { RoachbankError } from '../errors/roachbank-error.js';

/** The largest amount and balance: INT8's maximum, 2^63 − 1. */
export const maxMoney = 2n ** 63n - 1n;

/**
 * An amount of money from a bigint or a decimal string: a whole number from 1
 * to 2^63 − 1, else INVALID_ARGUMENT saying what is wrong with it.
 *
 * @example
 * parseAmount('100') // 100n
 * parseAmount('-5')  // throws INVALID_ARGUMENT: amount must be a positive whole number, got "-5"
 */
export function parseAmount(value: unknown, name = 'amount'): bigint {
  return parseWhole(value, name, 1n);
}

/** A credit limit: a whole number from 0 to 2^63 − 1 (a bigint or a decimal string), else INVALID_ARGUMENT. */
export function parseCreditLimit(value: unknown): bigint {
  return parseWhole(value, 'credit limit', 0n);
}

function parseWhole(value: unknown, name: string, least: 0n | 1n): bigint {
  const kind = least === 1n ? 'a positive whole number' : 'a whole number, 0 or more';
  let amount: bigint;
  if (typeof value === 'bigint') {
    amount = value;
  } else if (typeof value === 'string' && /^[0-9]+$/.test(value)) {
    amount = BigInt(value);
  } else {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
    throw new RoachbankError('INVALID_ARGUMENT', `${name} must be ${kind}, got ${shown}`);
  }
  if (amount < least) throw new RoachbankError('INVALID_ARGUMENT', `${name} must be at least ${least}, got ${amount}`);
  if (amount > maxMoney)
    throw new RoachbankError('INVALID_ARGUMENT', `${name} must be at most ${maxMoney} (2^63 - 1), got ${amount}`);
  return amount;
}

/** A balance as the database returns it (INT8 or a SUM as text) to bigint. */
export function toMoney(value: string | number | bigint | null | undefined): bigint {
  return value === null || value === undefined ? 0n : BigInt(value);
}
