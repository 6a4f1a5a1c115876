import { createHash, randomUUID } from 'node:crypto';
import { RoachbankError } from '../errors/roachbank-error.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a string is a UUID in its canonical form (any case). */
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/**
 * An account or transfer id: a UUID in its canonical form, lower-cased;
 * anything else is INVALID_ARGUMENT.
 *
 * @example
 * parseId('6F9619FF-8B86-D011-B42D-00CF4FC964FF', 'account id') // '6f9619ff-8b86-d011-b42d-00cf4fc964ff'
 */
export function parseId(value: unknown, name = 'id'): string {
  if (typeof value !== 'string' || !uuidPattern.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
    throw new RoachbankError('INVALID_ARGUMENT', `${name} must be a UUID, got ${shown}`);
  }
  return value.toLowerCase();
}

/**
 * A UUID derived from a name (SHA-256, laid out as a version 8 UUID): the same
 * name always gives the same id. Used for ids that must be the same on every
 * retry, like the opening deposit of an account or an HTTP Idempotency-Key.
 *
 * @example
 * derivedId('opening', accountId) // the same UUID for the same account, every time
 */
export function derivedId(namespace: string, name: string): string {
  const hex = createHash('sha256').update(`roachbank:${namespace}:${name}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The given id, checked, or a fresh random one. */
export function idOrNew(value: string | undefined, name = 'transfer id'): string {
  return value === undefined ? randomUUID() : parseId(value, name);
}

/**
 * The id of an account's opening deposit, derived from the account id so that
 * opening the same account again finds it. Anyone can compute it, so a movement
 * that names the account may not use it (`movement` refuses it): only opening
 * the account writes a row there that credits the account.
 *
 * @example
 * openingIdOf(accountId) // the same UUID for the same account, every time
 */
export function openingIdOf(accountId: string): string {
  return derivedId('opening', accountId);
}

const uuidTemplate = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';

/**
 * The ids that start with a prefix of a canonical UUID (at least its first 8 hex digits,
 * any case): the least and the greatest, so that a look-up is one range of the primary
 * key. Anything else is INVALID_ARGUMENT.
 *
 * @example
 * idPrefixRange('6F9619FF-8b') // { lower: '6f9619ff-8b00-0000-…', upper: '6f9619ff-8bff-ffff-…' }
 */
export function idPrefixRange(value: unknown): { lower: string; upper: string } {
  const prefix = typeof value === 'string' ? value.toLowerCase() : '';
  const fits =
    prefix.length >= 8 &&
    prefix.length <= uuidTemplate.length &&
    [...prefix].every((char, i) => (uuidTemplate[i] === '-' ? char === '-' : /[0-9a-f]/.test(char)));
  if (!fits) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `id prefix must be the start of a UUID, at least its first 8 hex digits (such as 6f9619ff or 6f9619ff-8b86), got ${shown}`,
    );
  }
  const rest = uuidTemplate.slice(prefix.length);
  return { lower: prefix + rest.replaceAll('x', '0'), upper: prefix + rest.replaceAll('x', 'f') };
}
