import { RoachbankError } from '../errors/roachbank-error.js';
import type { Page, PageRequest } from './bank.js';
import type { ChainPosition } from './bank-store.js';
import { parseId } from './ids.js';

/**
 * A cursor for lists ordered by (created_at, id): where the previous page
 * ended. Opaque to callers; inside, the row's timestamp as the database's text
 * (keeping microseconds, which a JS Date would lose) and its id, in base64url.
 */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(`${createdAt}|${id}`).toString('base64url');
}

/** The limit (1 to 1000, default 50) and the decoded cursor of a page request; INVALID_ARGUMENT otherwise. */
export function pageOf(request: PageRequest = {}): { limit: number; after: { createdAt: string; id: string } | null } {
  const limit = limitOf(request);
  if (request.cursor === undefined) return { limit, after: null };
  const [createdAt, id] = cursorParts(request.cursor);
  return { limit, after: { createdAt, id: parseId(id, 'cursor') } };
}

/**
 * The same for lists of one account's journal rows in chain order (history, statements),
 * whose cursor holds the last row's time and its number in the account's chain: the
 * pair is unique per account, and orders its rows as their numbers do (migration 0010).
 * A row not yet numbered (a back-fill under way) holds none, and its page goes on by time.
 */
export function chainPageOf(request: PageRequest = {}): { limit: number; after: ChainPosition | null } {
  const limit = limitOf(request);
  if (request.cursor === undefined) return { limit, after: null };
  const [createdAt, sequence] = cursorParts(request.cursor);
  if (sequence !== '-' && !/^[1-9][0-9]{0,17}$/.test(sequence)) {
    throw new RoachbankError('INVALID_ARGUMENT', 'cursor is not one this bank handed out');
  }
  return { limit, after: { createdAt, sequence: sequence === '-' ? null : sequence } };
}

/** `pageFrom` for chain order: the next cursor names the last row's time and number. */
export function chainPageFrom<Row extends { position: string; sequence: number | null }, T>(
  rows: readonly Row[],
  limit: number,
  convert: (row: Row) => T,
): Page<T> {
  return cutPage(rows, limit, convert, (row) => `${row.sequence ?? '-'}`);
}

function limitOf(request: PageRequest): number {
  const limit = request.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new RoachbankError('INVALID_ARGUMENT', `limit must be a whole number from 1 to 1000, got ${limit}`);
  }
  return limit;
}

function cursorParts(cursor: string): [string, string] {
  const [createdAt, key, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!createdAt || !key || rest.length > 0 || Number.isNaN(Date.parse(createdAt))) {
    throw new RoachbankError('INVALID_ARGUMENT', 'cursor is not one this bank handed out');
  }
  return [createdAt, key];
}

/** Cuts the extra row fetched to learn whether another page follows. */
export function pageFrom<Row extends { id: string; position: string }, T>(
  rows: readonly Row[],
  limit: number,
  convert: (row: Row) => T,
): Page<T> {
  return cutPage(rows, limit, convert, (row) => row.id);
}

/** The page and, when a row beyond it was fetched, the cursor of its last row: its position and `key`. */
function cutPage<Row extends { position: string }, T>(
  rows: readonly Row[],
  limit: number,
  convert: (row: Row) => T,
  key: (row: Row) => string,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(convert), next: rows.length > limit && last ? encodeCursor(last.position, key(last)) : null };
}
