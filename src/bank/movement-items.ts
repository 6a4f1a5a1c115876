import { RoachbankError } from '../errors/roachbank-error.js';
import { type Bank, type MovementOptions, type MovementRequest, type MovementResult, maxTransferManyItems } from './bank.js';

const fields = new Set(['id', 'fromId', 'toId', 'amount']);

/**
 * One movement as a JSON object (a line of a JSON-lines file, a CSV row, an item
 * of `POST /transfers/batch`): `{id, fromId, toId, amount}`, a missing or null
 * side meaning money entering or leaving, the amount a decimal string. Anything
 * else about it is INVALID_ARGUMENT naming the problem; ids and amounts are
 * checked by the bank like any movement's.
 *
 * @example
 * movementItem({ id, fromId: a, toId: b, amount: '100' }, { requireId: true })
 */
export function movementItem(value: unknown, options: { requireId: boolean }): MovementRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `a movement must be an object like {"id","fromId","toId","amount"}, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  const item = value as Record<string, unknown>;
  const unknown = Object.keys(item).filter((key) => !fields.has(key));
  if (unknown.length > 0)
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (a movement has id, fromId, toId, amount)`,
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
  return item as unknown as MovementRequest;
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
  options: { requireId: boolean } & MovementOptions,
): Promise<MovementResult[]> {
  if (values.length > maxTransferManyItems) {
    throw new RoachbankError('INVALID_ARGUMENT', `at most ${maxTransferManyItems} movements in one call, got ${values.length}`);
  }
  return eachReadable(
    values,
    (value) => movementItem(value, options),
    (items) => bank.transferMany(items, options.signal ? { signal: options.signal } : {}),
  );
}

/**
 * Reads every value; one that cannot be read fails alone with the error `read`
 * threw, the others go to `run` together, and the answers come back in input order.
 */
export async function eachReadable<T>(
  values: readonly unknown[],
  read: (value: unknown) => T,
  run: (items: T[]) => Promise<MovementResult[]>,
): Promise<MovementResult[]> {
  const results: MovementResult[] = new Array(values.length);
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
