import { derivedId, isUuid } from 'roachbank';

/**
 * The id an Idempotency-Key stands for: the key itself when it is a UUID (so
 * `roachbank transfer --id X` and `Idempotency-Key: X` name the same transfer),
 * else a UUID derived from the key with SHA-256. Undefined without a key: a
 * fresh id is made.
 *
 * @example
 * idFromKey('order-1234') // the same UUID for every request that sends 'order-1234'
 */
export function idFromKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  return isUuid(key) ? key.toLowerCase() : derivedId('idempotency-key', key);
}
