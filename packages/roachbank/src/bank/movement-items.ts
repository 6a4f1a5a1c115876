import { RoachbankError } from '../errors/roachbank-error.js';
import {
  type Bank,
  type HoldItem,
  type MoveAnswer,
  type MovementOptions,
  type MovementOutcome,
  type MovementRequest,
  type MovementResult,
  maxTransferManyItems,
} from './bank.js';

const fields = new Set(['id', 'fromId', 'toId', 'amount', 'reference', 'metadata']);
const holdFields = new Set([...fields, 'kind', 'expiresInMs']);

/**
 * One movement as a JSON object (a line of a JSON-lines file, a CSV row, an item
 * of `POST /transfers/batch`): `{id, fromId, toId, amount, reference, metadata}`, a
 * missing or null side meaning money entering or leaving, the amount a decimal string,
 * reference and metadata optional; or a hold, `{kind: "hold", id, fromId, toId, amount,
 * expiresInMs, reference, metadata}`. Anything else about it is
 * INVALID_ARGUMENT naming the problem; ids and amounts are checked by the bank
 * like any movement's.
 *
 * @example
 * movementItem({ id, fromId: a, toId: b, amount: '100' }, { requireId: true })
 */
export function movementItem(value: unknown, options: { requireId: boolean }): MovementRequest | HoldItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `a movement must be an object like {"id","fromId","toId","amount"}, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  const item = value as Record<string, unknown>;
  const hold = item.kind !== undefined;
  if (hold && item.kind !== 'hold') {
    throw new RoachbankError('INVALID_ARGUMENT', `kind must be "hold" or absent, got ${JSON.stringify(item.kind)}`);
  }
  const unknown = Object.keys(item).filter((key) => !(hold ? holdFields : fields).has(key));
  if (unknown.length > 0)
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (${hold ? 'a hold has kind, id, fromId, toId, amount, expiresInMs, reference, metadata' : 'a movement has id, fromId, toId, amount, reference, metadata'})`,
    );
  if (options.requireId && item.id === undefined) {
    throw new RoachbankError('INVALID_ARGUMENT', 'id is required: it is the idempotency key of the movement');
  }
  if (item.amount !== undefined && typeof item.amount !== 'string') {
    throw new RoachbankError('INVALID_ARGUMENT', `amount must be a decimal string like "100", got ${typeof item.amount}`);
  }
  if (item.amount === undefined) throw new RoachbankError('INVALID_ARGUMENT', 'amount is required');
  for (const side of ['id', 'fromId', 'toId'] as const) {
    const given = item[side];
    if (given !== undefined && given !== null && typeof given !== 'string') {
      throw new RoachbankError(
        'INVALID_ARGUMENT',
        `${side} must be a UUID string${side === 'id' ? '' : ' or null'}, got ${typeof given}`,
      );
    }
  }
  if (item.expiresInMs !== undefined && item.expiresInMs !== null && typeof item.expiresInMs !== 'number') {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `expiresInMs must be a whole number of milliseconds, got ${typeof item.expiresInMs}`,
    );
  }
  return item as unknown as MovementRequest | HoldItem;
}

/**
 * `transferMany` over items as they came in: each is read with `movementItem`,
 * a malformed one fails alone, and the others move in their order. More than
 * `maxTransferManyItems` is INVALID_ARGUMENT for the whole call.
 *
 * @example
 * const results = await transferManyItems(bank, JSON.parse(body).items, { requireId: true });
 */
export async function transferManyItems(
  bank: Bank,
  values: readonly unknown[],
  options: { requireId: boolean; atomic?: boolean } & MovementOptions,
): Promise<MovementResult<MoveAnswer>[]> {
  if (values.length > maxTransferManyItems) {
    throw new RoachbankError('INVALID_ARGUMENT', `at most ${maxTransferManyItems} movements in one call, got ${values.length}`);
  }
  return moveItems(bank, values, (value) => movementItem(value, options), options);
}

/**
 * `transferMany` over values read one by one with `read`: a value that cannot be read
 * fails alone and the others move in their order, or, with `atomic`, it fails the
 * group (GROUP_FAILED for the others) and nothing is sent.
 */
export async function moveItems(
  bank: Bank,
  values: readonly unknown[],
  read: (value: unknown) => MovementRequest | HoldItem,
  options: { atomic?: boolean } & MovementOptions,
): Promise<MovementResult<MoveAnswer>[]> {
  const manyOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.atomic ? { atomic: true } : {}) };
  if (!options.atomic) return eachReadable(values, read, (items) => bank.transferMany(items, manyOptions));
  const items: (MovementRequest | HoldItem)[] = [];
  for (const [index, value] of values.entries()) {
    try {
      items.push(read(value));
    } catch (error) {
      return groupFailed(values.length, index, error);
    }
  }
  return bank.transferMany(items, manyOptions);
}

/**
 * Reads every value; one that cannot be read fails alone with the error `read`
 * threw, the others go to `run` together, and the answers come back in input order.
 */
export async function eachReadable<T, O = MovementOutcome>(
  values: readonly unknown[],
  read: (value: unknown) => T,
  run: (items: T[]) => Promise<MovementResult<O>[]>,
): Promise<MovementResult<O>[]> {
  const results: MovementResult<O>[] = new Array(values.length);
  const readable: { index: number; item: T }[] = [];
  values.forEach((value, index) => {
    try {
      readable.push({ index, item: read(value) });
    } catch (error) {
      results[index] = { ok: false, error };
    }
  });
  const answers = await run(readable.map((r) => r.item));
  readable.forEach(({ index }, i) => {
    results[index] = answers[i]!;
  });
  return results;
}

/** The answers of an atomic group that did not happen: the item at `index` with its error, every other GROUP_FAILED. */
export function groupFailed(count: number, index: number, error: unknown): MovementResult<MoveAnswer>[] {
  const code = error instanceof RoachbankError ? error.code : 'an error';
  return Array.from({ length: count }, (_, i) =>
    i === index
      ? { ok: false, error }
      : {
          ok: false,
          error: new RoachbankError(
            'GROUP_FAILED',
            `nothing of the group happened: item ${index + 1} of ${count} failed (${code})`,
            {
              cause: error,
            },
          ),
        },
  );
}
