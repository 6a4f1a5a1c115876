import { parseId } from '../bank/ids.js';
import { parseAmount } from '../bank/money.js';
import { RoachbankError } from '../errors/roachbank-error.js';

// Argument parsers for commander: the bank's own validators, run before any
// connection is made. They throw RoachbankError INVALID_ARGUMENT, which commander
// lets through, so bad input reads exactly as the bank would word it.

export const idArgument = (name: string) => (value: string) => parseId(value, name);
export const amountArgument = (name: string) => (value: string) => parseAmount(value, name);

export function limitOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new RoachbankError('INVALID_ARGUMENT', `limit must be a whole number from 1 to 1000, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}
