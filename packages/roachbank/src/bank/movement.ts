import { RoachbankError } from '../errors/roachbank-error.js';
import { type Annotation, type AnnotationRequest, annotation, annotationDifferences, sameAnnotation } from './annotations.js';
import type { Hold, JournalEntry } from './bank.js';
import { idOrNew, openingIdOf, parseId } from './ids.js';
import { parseAmount } from './money.js';

/**
 * What a journal row does to money, stored in its `kind` column (migration 0004):
 * the sides it names follow from it, never the other way round. A hold's post and a
 * reversal are rows of these kinds too, linked by `hold_id` and `reversal_of`.
 */
export const movementKinds = ['deposit', 'withdrawal', 'transfer'] as const;
export type MovementKind = (typeof movementKinds)[number];

/**
 * What a request asks the bank to do: move money (the three journal kinds), reserve
 * it (`hold`), move or release what a hold reserved (`post`, `void`), or move back
 * what a journal row moved (`reversal`). Every kind goes through `decideMovement`.
 */
export const requestKinds = [...movementKinds, 'hold', 'post', 'void', 'reversal'] as const;
export type RequestKind = (typeof requestKinds)[number];

/** What every checked request carries: its id, its amount, and the reference and metadata it writes. */
interface Body extends Annotation {
  /** The idempotency key: of the journal row, or for `hold` and `void` of the hold. */
  readonly id: string;
  /** 1 to 2^63 − 1 minor units. */
  readonly amount: bigint;
}

/** Money entering, leaving, or between two accounts. */
export type PlainMovement =
  | (Body & { readonly kind: 'deposit'; readonly fromId: null; readonly toId: string })
  | (Body & { readonly kind: 'withdrawal'; readonly fromId: string; readonly toId: null })
  | (Body & { readonly kind: 'transfer'; readonly fromId: string; readonly toId: string });

/** Reserving `amount` of `fromId` for a later post to `toId` (a withdrawal when null). */
export interface HoldMovement extends Body {
  readonly kind: 'hold';
  readonly fromId: string;
  readonly toId: string | null;
  /** From when the hold is placed; null: it never expires. */
  readonly expiresInMs: number | null;
}

/**
 * Moving `amount` of a hold's reservation, between the hold's sides. `hold` is the hold
 * as the bank read it before: only its fixed fields (sides, amount, times) are used;
 * its status is read again under the locks.
 */
export interface PostMovement extends Body {
  readonly kind: 'post';
  readonly holdId: string;
  readonly fromId: string;
  readonly toId: string | null;
  readonly hold: Hold;
}

/** Releasing a hold: `id` is the hold's, `amount` what it holds; `hold` as in `PostMovement`. */
export interface VoidMovement extends Body {
  readonly kind: 'void';
  readonly holdId: string;
  readonly fromId: string;
  readonly toId: null;
  readonly hold: Hold;
}

/**
 * Moving `amount` of a journal row back: from its destination to its source (either
 * may be null). `original` is that row as the bank read it (journal rows never change).
 */
export interface ReversalMovement extends Body {
  readonly kind: 'reversal';
  readonly reversalOf: string;
  readonly fromId: string | null;
  readonly toId: string | null;
  readonly original: JournalEntry;
}

/** A checked request, by kind: what a store is given, and what `decideMovement` decides. */
export type CheckedMovement = PlainMovement | HoldMovement | PostMovement | VoidMovement | ReversalMovement;

/** The longest a hold may last: 366 days. */
export const maxHoldMs = 366 * 24 * 3600 * 1000;

/** The journal kind of a row naming these sides. */
export function sidesKind(fromId: string | null, toId: string | null): MovementKind {
  return fromId === null ? 'deposit' : toId === null ? 'withdrawal' : 'transfer';
}

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
export function movement(
  request: { id?: string; fromId?: string | null; toId?: string | null; amount: unknown } & AnnotationRequest,
): PlainMovement {
  const { id, fromId, toId } = sides(request, 'transfer id');
  const body = { id, amount: parseAmount(request.amount), ...annotation(request) };
  if (fromId === null) return { kind: 'deposit', ...body, fromId, toId: toId! };
  if (toId === null) return { kind: 'withdrawal', ...body, fromId, toId };
  return { kind: 'transfer', ...body, fromId, toId };
}

/** Checks a hold request: a source, an optional destination, an amount, an expiry from 1 ms to `maxHoldMs`. */
export function holdMovement(
  request: {
    id?: string;
    fromId?: string | null;
    toId?: string | null;
    amount: unknown;
    expiresInMs?: unknown;
  } & AnnotationRequest,
): HoldMovement {
  if (request.fromId == null) throw new RoachbankError('INVALID_ARGUMENT', 'a hold needs a source account');
  const { id, fromId, toId } = sides(request, 'hold id');
  const expires = request.expiresInMs;
  if (expires != null && (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > maxHoldMs)) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `expiresInMs must be a whole number of ms from 1 to ${maxHoldMs}, got ${String(expires)}`,
    );
  }
  return {
    kind: 'hold',
    id,
    fromId: fromId!,
    toId,
    amount: parseAmount(request.amount),
    expiresInMs: (expires as number | null | undefined) ?? null,
    ...annotation(request),
  };
}

/**
 * A post of `amount` of this hold (as read before), under `id`. Its row carries the
 * hold's reference unless the request names one (a capture belongs to the order its
 * authorization did); metadata only as the request gives it.
 */
export function postMovement(hold: Hold, request: { id: string; amount: unknown } & AnnotationRequest): PostMovement {
  const { id } = sides({ id: request.id, fromId: hold.fromId, toId: hold.toId }, 'post id');
  const amount = parseAmount(request.amount);
  const annotated = annotation(request, { reference: hold.reference, metadata: null });
  return { kind: 'post', id, holdId: hold.id, fromId: hold.fromId, toId: hold.toId, amount, ...annotated, hold };
}

/** Releasing this hold (as read before); its id is the hold's, and it writes no row, so it carries the hold's annotation. */
export function voidMovement(hold: Hold): VoidMovement {
  const { reference, metadata } = hold;
  return {
    kind: 'void',
    id: hold.id,
    holdId: hold.id,
    fromId: hold.fromId,
    toId: null,
    amount: hold.amount,
    reference,
    metadata,
    hold,
  };
}

/**
 * Moving `amount` of this journal row back, from where it went to where it came from,
 * under `id` (fresh when omitted). Its row carries the original's reference unless the
 * request names one (a refund belongs to the order its payment did); metadata only as
 * the request gives it.
 */
export function reversalMovement(
  original: JournalEntry,
  request: { id?: string; amount: unknown } & AnnotationRequest,
): ReversalMovement {
  const { id, fromId, toId } = sides({ id: request.id, fromId: original.toId, toId: original.fromId }, 'reversal id');
  const amount = parseAmount(request.amount);
  const annotated = annotation(request, { reference: original.reference, metadata: null });
  return { kind: 'reversal', id, reversalOf: original.id, fromId, toId, amount, ...annotated, original };
}

/** The sides and id of a request, checked: UUIDs, at least one side, two different ones, no forged opening id. */
function sides(
  request: { id?: string; fromId?: string | null; toId?: string | null },
  idName: string,
): { id: string; fromId: string | null; toId: string | null } {
  const fromId = request.fromId == null ? null : parseId(request.fromId, 'source account id');
  const toId = request.toId == null ? null : parseId(request.toId, 'destination account id');
  if (fromId === null && toId === null) {
    throw new RoachbankError('INVALID_ARGUMENT', 'a movement needs a source account, a destination account or both');
  }
  if (fromId !== null && fromId === toId) {
    throw new RoachbankError('INVALID_ARGUMENT', 'source and destination must be different accounts');
  }
  const id = idOrNew(request.id, idName);
  // Derived ids are version 8 (`derivedId`): only those can be an opening id, so the
  // hashes are skipped for the random (version 4) ids callers and the bank make.
  for (const account of id[14] === '8' ? [fromId, toId] : []) {
    if (account !== null && id === openingIdOf(account)) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `${idName} ${id} is reserved for the opening deposit of account ${account}; use another id`,
      );
    }
  }
  return { id, fromId, toId };
}

/** What a movement writes to the journal, if it writes a row: the body idempotency compares. */
export interface JournalBody extends Annotation {
  readonly kind: MovementKind;
  readonly fromId: string | null;
  readonly toId: string | null;
  readonly amount: bigint;
  readonly holdId: string | null;
  readonly reversalOf: string | null;
}

/** The journal row a movement writes (a hold and a void write none). */
export function journalBody(m: PlainMovement | PostMovement | ReversalMovement): JournalBody {
  return {
    kind: sidesKind(m.fromId, m.toId),
    fromId: m.fromId,
    toId: m.toId,
    amount: m.amount,
    holdId: m.kind === 'post' ? m.holdId : null,
    reversalOf: m.kind === 'reversal' ? m.reversalOf : null,
    reference: m.reference,
    metadata: m.metadata,
  };
}

/**
 * What idempotency compares: everything a journal row says but its id. Two requests
 * under one id are the same request exactly when their bodies are equal (metadata by
 * value: the order of its keys does not count); a field added to a movement is added
 * here, once.
 */
export function sameBody(a: JournalBody, b: JournalBody): boolean {
  return (
    a.kind === b.kind &&
    a.fromId === b.fromId &&
    a.toId === b.toId &&
    a.amount === b.amount &&
    a.holdId === b.holdId &&
    a.reversalOf === b.reversalOf &&
    sameAnnotation(a, b)
  );
}

/**
 * Why a movement cannot be answered by the journal row under its id: undefined when
 * the canonical bodies agree (a replay), else IDEMPOTENCY_CONFLICT naming what differs.
 */
export function bodyConflict(
  existing: JournalEntry,
  request: PlainMovement | PostMovement | ReversalMovement,
): RoachbankError | undefined {
  const asked = journalBody(request);
  if (sameBody(existing, asked)) return undefined;
  const differences: string[] = [];
  if (existing.kind !== asked.kind) differences.push(`it was a ${existing.kind}, not a ${asked.kind}`);
  else {
    if (existing.fromId !== asked.fromId) differences.push(`source ${existing.fromId}, not ${asked.fromId}`);
    if (existing.toId !== asked.toId) differences.push(`destination ${existing.toId}, not ${asked.toId}`);
  }
  if (existing.amount !== asked.amount) differences.push(`amount ${existing.amount}, not ${asked.amount}`);
  if (existing.holdId !== asked.holdId)
    differences.push(`it posted hold ${existing.holdId ?? 'none'}, not ${asked.holdId ?? 'none'}`);
  if (existing.reversalOf !== asked.reversalOf)
    differences.push(`it reversed ${existing.reversalOf ?? 'nothing'}, not ${asked.reversalOf ?? 'nothing'}`);
  differences.push(...annotationDifferences(existing, asked));
  return new RoachbankError(
    'IDEMPOTENCY_CONFLICT',
    `transfer id ${request.id} was already used with another body: ${differences.join('; ')}`,
  );
}

/** How long a hold was placed for, as its row records it (expires_at and created_at come from one clock reading). */
export function holdDurationMs(hold: Hold): number | null {
  return hold.expiresAt === null ? null : hold.expiresAt.getTime() - hold.createdAt.getTime();
}

/** Why a hold request cannot be answered by the hold under its id: undefined for the same body, else IDEMPOTENCY_CONFLICT. */
export function holdConflict(existing: Hold, request: HoldMovement): RoachbankError | undefined {
  const differences: string[] = [];
  if (existing.fromId !== request.fromId) differences.push(`source ${existing.fromId}, not ${request.fromId}`);
  if (existing.toId !== request.toId) differences.push(`destination ${existing.toId ?? 'none'}, not ${request.toId ?? 'none'}`);
  if (existing.amount !== request.amount) differences.push(`amount ${existing.amount}, not ${request.amount}`);
  const duration = holdDurationMs(existing);
  if (duration !== request.expiresInMs) {
    differences.push(
      `expiry ${duration === null ? 'none' : `${duration} ms`}, not ${request.expiresInMs === null ? 'none' : `${request.expiresInMs} ms`}`,
    );
  }
  differences.push(...annotationDifferences(existing, request));
  if (differences.length === 0) return undefined;
  return new RoachbankError(
    'IDEMPOTENCY_CONFLICT',
    `hold id ${request.id} was already used with another body: ${differences.join('; ')}`,
  );
}
