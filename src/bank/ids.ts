import { randomUUID } from 'node:crypto';
import { RoachbankError } from '../errors/roachbank-error.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

/** The given id, checked, or a fresh random one. */
export function idOrNew(value: string | undefined, name = 'transfer id'): string {
  return value === undefined ? randomUUID() : parseId(value, name);
}
