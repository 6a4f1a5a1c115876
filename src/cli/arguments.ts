import { Option } from 'commander';
import { parseId } from '../bank/ids.js';
import { parseAmount } from '../bank/money.js';
import { RoachbankError } from '../errors/roachbank-error.js';

// Argument parsers for commander: the bank's own validators, run before any
// connection is made. They throw RoachbankError INVALID_ARGUMENT, which commander
// lets through, so bad input reads exactly as the bank would word it.

export const idArgument = (name: string) => (value: string) => parseId(value, name);
export const amountArgument = (name: string) => (value: string) => parseAmount(value, name);

/** A whole-number option from `min` to `max`; INVALID_ARGUMENT naming the option otherwise. */
export const wholeNumber = (name: string, min: number, max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
};

export const limitOption = wholeNumber('limit', 1, 1000);

/** `--batch on|off`: group commit of the pg flavor (concurrent movements share one statement and one commit). */
export const batchOption = () =>
  new Option(
    '--batch <on|off>',
    'group commit (pg flavor): concurrent movements share one statement and one commit; off: one statement each',
  )
    .choices(['on', 'off'])
    .default('on');
