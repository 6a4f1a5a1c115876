import currencyCodes from 'currency-codes';
import { RoachbankError } from '../errors/roachbank-error.js';

/**
 * The currency of an account that names none: ISO 4217's `XXX`, "no currency", with
 * no minor unit, so a book made before currencies existed reads exactly as it did.
 */
export const defaultCurrency = 'XXX';

/** A currency code: ISO 4217's (`USD`, `EUR`, `IDR`) or an asset of the user's own (`POINTS`, `USDC_POLYGON`). */
export const currencyPattern = /^[A-Z][A-Z0-9_]{2,15}$/;

/** The code, checked; INVALID_ARGUMENT naming the rule otherwise. */
export function checkedCurrency(value: unknown, name = 'currency'): string {
  if (typeof value === 'string' && currencyPattern.test(value)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
  throw new RoachbankError(
    'INVALID_ARGUMENT',
    `${name} must be an upper-case code of 3 to 16 letters, digits or _ starting with a letter (USD, POINTS), got ${shown}`,
  );
}

/**
 * How many decimals a currency shows: ISO 4217's minor unit (USD 2, JPY 0, KWD 3, IDR 2,
 * from the `currency-codes` package's copy of the standard); 0 for an asset of the
 * user's own. For display only: amounts are whole minor units everywhere.
 */
export function currencyDecimals(code: string): number {
  return currencyCodes.code(code)?.digits ?? 0;
}

/**
 * An amount of minor units as its currency shows it: `12345` USD is `123.45`, `-5` USD
 * `-0.05`, `12345` JPY `12345`. Exact for every INT8 (bigint arithmetic, no floats).
 *
 * @example
 * formatMinorUnits(12345n, 'USD') // '123.45'
 */
export function formatMinorUnits(amount: bigint, code: string): string {
  const decimals = currencyDecimals(code);
  if (decimals === 0) return amount.toString();
  const digits = (amount < 0n ? -amount : amount).toString().padStart(decimals + 1, '0');
  const sign = amount < 0n ? '-' : '';
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}
