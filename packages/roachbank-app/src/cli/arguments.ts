import { Option } from 'commander';
import ms from 'ms';
import { checkedCurrency, parseAmount, parseCreditLimit, parseId, RoachbankError } from 'roachbank';

// Argument parsers for commander: the bank's own validators, run before any
// connection is made. They throw RoachbankError INVALID_ARGUMENT, which commander
// lets through, so bad input reads exactly as the bank would word it.

export const idArgument = (name: string) => (value: string) => parseId(value, name);
export const amountArgument = (name: string) => (value: string) => parseAmount(value, name);
export const creditLimitArgument = (value: string) => parseCreditLimit(value);
export const currencyArgument = (value: string) => checkedCurrency(value);

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

/**
 * A duration option as `ms` reads it (`500ms`, `90s`, `15m`, `2h`, `7d`; a bare number
 * is seconds), in whole milliseconds from 1 to `mostMs`; INVALID_ARGUMENT naming the option otherwise.
 */
export const durationOption = (name: string, mostMs: number) => (value: string) => {
  const trimmed = value.trim();
  const parsed = /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : (ms(trimmed as ms.StringValue) as number | undefined);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 1 || parsed > mostMs) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `${name} must be a duration like 500ms, 30s, 15m or 2h, at most ${ms(mostMs, { long: true })}, got ${JSON.stringify(value)}`,
    );
  }
  return Math.round(parsed);
};
