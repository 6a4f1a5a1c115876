import { isDeepStrictEqual } from 'node:util';
import { RoachbankError } from '../errors/roachbank-error.js';

/** A JSON object a caller attaches to an account, a movement or a hold: stored as sent, read back the same. */
export type Metadata = { readonly [key: string]: unknown };

/**
 * What a caller may attach to an account, a journal row or a hold (migration 0007):
 * a `reference` to what it belongs to outside the bank (an order, an invoice, a
 * payout batch), indexed and not unique, and `metadata`. Both are part of the body
 * idempotency compares.
 */
export interface Annotation {
  readonly reference: string | null;
  readonly metadata: Metadata | null;
}

/** How a request names its annotation: either part may be left out (none). */
export interface AnnotationRequest {
  /** 1 to 128 printable characters; not unique (many rows may share one). */
  readonly reference?: string | null;
  /** A JSON object of at most `maxMetadataBytes` bytes as JSON text. */
  readonly metadata?: Metadata | null;
}

/** The longest reference, in characters: the CHECK of migration 0007. */
export const maxReferenceLength = 128;
/** The largest metadata, in bytes of its JSON text (UTF-8): the CHECK of migration 0007. */
export const maxMetadataBytes = 4096;

/** No reference and no metadata. */
export const noAnnotation: Annotation = { reference: null, metadata: null };

/**
 * A request's annotation, checked: a reference of 1 to 128 printable characters (the
 * database counts characters, not bytes; a control character would break a CSV line or
 * a log, and PostgreSQL's TEXT holds no NUL), metadata a JSON object whose JSON text
 * is at most 4 KiB and reads back as the same value (no bigint, Date, undefined or
 * NaN, which JSON would change or lose). A part left out is `inherited`'s (none by
 * default). INVALID_ARGUMENT saying what is wrong otherwise.
 *
 * @example
 * annotation({ reference: 'order-1842', metadata: { channel: 'web' } }) // { reference: 'order-1842', metadata: { channel: 'web' } }
 */
export function annotation(request: AnnotationRequest, inherited: Annotation = noAnnotation): Annotation {
  const reference = request.reference === undefined ? inherited.reference : parseReference(request.reference);
  const metadata = request.metadata === undefined ? inherited.metadata : parseMetadata(request.metadata);
  return reference === null && metadata === null ? noAnnotation : { reference, metadata };
}

/** A reference, checked (see `annotation`); null for none. */
export function parseReference(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw invalid(`reference must be a string, got ${typeof value}`);
  const length = [...value].length;
  if (length < 1 || length > maxReferenceLength) {
    throw invalid(`reference must be 1 to ${maxReferenceLength} characters, got ${length}`);
  }
  // Cc: the control characters; Cs: a surrogate not paired (in a `u` pattern a pair is one code point).
  if (/[\p{Cc}\p{Cs}]/u.test(value)) {
    throw invalid('reference must be printable text: no control characters or unpaired surrogates');
  }
  return value;
}

/** Metadata, checked (see `annotation`), as a copy of its own; null for none. */
export function parseMetadata(value: unknown): Metadata | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`metadata must be a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw invalid(`metadata must be plain JSON (${(error as Error).message})`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > maxMetadataBytes) throw invalid(`metadata must be at most ${maxMetadataBytes} bytes as JSON, got ${bytes}`);
  if (!isPlainJson(value)) {
    throw invalid('metadata must be plain JSON: strings, finite numbers, booleans, null, arrays and objects only');
  }
  return JSON.parse(text) as Metadata;
}

/** Whether JSON text would carry this value unchanged: no bigint, Date, undefined, NaN, function or class instance, at any depth. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  // Array.from reads a hole as undefined (JSON would write null there).
  if (Array.isArray(value)) return Array.from(value).every(isPlainJson);
  if (typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return (prototype === Object.prototype || prototype === null) && Object.values(value).every(isPlainJson);
}

/** Metadata as the database stores it: its JSON text, keys in the order given. */
export function metadataText(metadata: Metadata | null): string | null {
  return metadata === null ? null : JSON.stringify(metadata);
}

/** Metadata as the database returns it. */
export function metadataOf(text: string | null): Metadata | null {
  return text === null ? null : (JSON.parse(text) as Metadata);
}

/**
 * Whether two annotations are the same for idempotency: the same reference, and
 * metadata with the same values (the order of an object's keys does not count).
 */
export function sameAnnotation(a: Annotation, b: Annotation): boolean {
  return annotationDifferences(a, b).length === 0;
}

/** What differs between a recorded annotation and a request's, for an IDEMPOTENCY_CONFLICT message. */
export function annotationDifferences(recorded: Annotation, asked: Annotation): string[] {
  const differences: string[] = [];
  const shown = (reference: string | null) => (reference === null ? 'none' : JSON.stringify(reference));
  if (recorded.reference !== asked.reference)
    differences.push(`reference ${shown(recorded.reference)}, not ${shown(asked.reference)}`);
  if (!isDeepStrictEqual(recorded.metadata, asked.metadata)) differences.push('other metadata');
  return differences;
}

function invalid(message: string): RoachbankError {
  return new RoachbankError('INVALID_ARGUMENT', message);
}
