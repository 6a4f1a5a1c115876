import { RoachbankError } from '../errors/roachbank-error.js';
import type { JournalEntry } from './bank.js';
import { idOrNew, openingIdOf, parseId } from './ids.js';
import { parseAmount } from './money.js';

/**
 * What a journal row does to money, stored in its `kind` column (migration 0004):
 * the sides it names follow from it, never the other way round. New kinds (a hold's
 * post, a reversal) join this list and the column's CHECK together.
 */
export const movementKinds = ['deposit', 'withdrawal', 'transfer'] as const;
export type MovementKind = (typeof movementKinds)[number];

interface Body {
  /** The idempotency key. */
  readonly id: string;
  /** 1 to 2^63 − 1 minor units. */
  readonly amount: bigint;
}

/** A checked request to move money, by kind: money entering, leaving, or between two accounts. */
export type CheckedMovement =
  | (Body & { readonly kind: 'deposit'; readonly fromId: null; readonly toId: string })
  | (Body & { readonly kind: 'withdrawal'; readonly fromId: string; readonly toId: null })
  | (Body & { readonly kind: 'transfer'; readonly fromId: string; readonly toId: string });

/**
 * The kind of a movement as it was asked for, checked or not: a missing side is
 * money entering or leaving (a request with neither counts as a transfer, which
 * `movement` then refuses).
 */
export function requestKind(request: { readonly fromId?: unknown; readonly toId?: unknown }): MovementKind {
  if (request.fromId == null && request.toId != null) return 'deposit';
  if (request.toId == null && request.fromId != null) return 'withdrawal';
  return 'transfer';
}

/**
 * Checks and normalizes a money movement before any SQL runs: UUIDs, an amount
 * from 1 to 2^63 − 1, at least one account, two different ones. A missing or
 * null side is money entering or leaving. Bad input is INVALID_ARGUMENT; the id of
 * the opening deposit of one of its accounts (`openingIdOf`) is IDEMPOTENCY_CONFLICT,
 * so no client can write a row that opening that account would take for its own.
 *
 * @example
 * movement({ fromId: a, toId: b, amount: 100n }) // { kind: 'transfer', id: <fresh uuid>, fromId: a, toId: b, amount: 100n }
 */
export function movement(request: {
  id?: string;
  fromId?: string | null;
  toId?: string | null;
  amount: unknown;
}): CheckedMovement {
  const fromId = request.fromId == null ? null : parseId(request.fromId, 'source account id');
  const toId = request.toId == null ? null : parseId(request.toId, 'destination account id');
  if (fromId === null && toId === null) {
    throw new RoachbankError('INVALID_ARGUMENT', 'a movement needs a source account, a destination account or both');
  }
  if (fromId !== null && fromId === toId) {
    throw new RoachbankError('INVALID_ARGUMENT', 'source and destination must be different accounts');
  }
  const id = idOrNew(request.id);
  // Derived ids are version 8 (`derivedId`): only those can be an opening id, so the
  // hashes are skipped for the random (version 4) ids callers and the bank make.
  for (const account of id[14] === '8' ? [fromId, toId] : []) {
    if (account !== null && id === openingIdOf(account)) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `transfer id ${id} is reserved for the opening deposit of account ${account}; use another id`,
      );
    }
  }
  const amount = parseAmount(request.amount);
  if (fromId === null) return { kind: 'deposit', id, fromId, toId: toId!, amount };
  if (toId === null) return { kind: 'withdrawal', id, fromId, toId, amount };
  return { kind: 'transfer', id, fromId, toId, amount };
}

/**
 * What idempotency compares: everything a movement asks for but its id, in one
 * canonical form. Two requests under one id are the same request exactly when
 * their bodies are equal; a field added to a movement is added here, once.
 */
export function canonicalBody(m: Pick<JournalEntry, 'kind' | 'fromId' | 'toId' | 'amount'>): string {
  return JSON.stringify([m.kind, m.fromId, m.toId, m.amount.toString()]);
}

/**
 * Why a movement cannot be answered by the journal row under its id: undefined when
 * the canonical bodies agree (a replay), else IDEMPOTENCY_CONFLICT naming what differs.
 */
export function bodyConflict(existing: JournalEntry, request: CheckedMovement): RoachbankError | undefined {
  if (canonicalBody(existing) === canonicalBody(request)) return undefined;
  const differences: string[] = [];
  if (existing.kind !== request.kind) differences.push(`it was a ${existing.kind}, not a ${request.kind}`);
  else {
    if (existing.fromId !== request.fromId) differences.push(`source ${existing.fromId}, not ${request.fromId}`);
    if (existing.toId !== request.toId) differences.push(`destination ${existing.toId}, not ${request.toId}`);
  }
  if (existing.amount !== request.amount) differences.push(`amount ${existing.amount}, not ${request.amount}`);
  return new RoachbankError(
    'IDEMPOTENCY_CONFLICT',
    `transfer id ${request.id} was already used with another body: ${differences.join('; ')}`,
  );
}
