import type { CheckedMovement } from './movement.js';

/**
 * Which movements may share one batch statement (DESIGN §7).
 *
 * The statement checks every debit against the balance its source had when the
 * statement locked it, then applies every accepted item at once. That is the
 * outcome of a serial order (every refused item first, then every accepted
 * item in any order) as long as a batch never holds
 *
 * - two items with the same id: the second would be a replay of the first, which
 *   the journal, read before either is written, cannot see;
 * - two items that debit the same account: each would be checked against the
 *   same balance, and together they could overdraw it.
 *
 * Why the order is serial: a refused item changes nothing, so running it first
 * changes nothing for the others, and it saw exactly the balance it would see
 * first. An accepted item's source is debited by no other item of the batch, so
 * between the start of the statement and its own debit that source can only have
 * received credits: run in any order after the refused ones, its check passes
 * again. Opening and closing accounts never happen inside a batch, so "open" means
 * the same for every item. The balances written are the sums of the accepted items'
 * changes, which is what running them one by one would leave.
 *
 * `sequential` adds the rule that makes the serial order the input order, for
 * `transferMany`: no item debits an account that an earlier item of the batch
 * credits (the later item must see that credit, which only a later batch shows).
 * A refused item is then refused in input order too, because no earlier item of
 * its batch touched its source, and the accepted ones commute.
 */
export class BatchRule {
  readonly #sequential: boolean;
  readonly #ids = new Set<string>();
  readonly #debited = new Set<string>();
  readonly #credited = new Set<string>();

  constructor(options: { sequential: boolean }) {
    this.#sequential = options.sequential;
  }

  get size(): number {
    return this.#ids.size;
  }

  /** Whether the movement may join the batch under the rule. */
  admits(item: CheckedMovement): boolean {
    if (this.#ids.has(item.id)) return false;
    if (item.fromId !== null && (this.#debited.has(item.fromId) || (this.#sequential && this.#credited.has(item.fromId)))) {
      return false;
    }
    return true;
  }

  /** Adds a movement that `admits` allowed. */
  add(item: CheckedMovement): void {
    this.#ids.add(item.id);
    if (item.fromId !== null) this.#debited.add(item.fromId);
    if (item.toId !== null) this.#credited.add(item.toId);
  }
}

/**
 * Splits movements, in input order, into consecutive batches of at most
 * `maxSize` that each keep the sequential rule: running them one after another
 * is running the movements one by one in input order.
 *
 * @example
 * // aToB credits B, so bToC (which debits B) waits for the next batch:
 * sequentialBatches([aToB, cToD, bToC], 1000) // [[aToB, cToD], [bToC]]
 */
export function sequentialBatches<T extends CheckedMovement>(items: readonly T[], maxSize: number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let rule = new BatchRule({ sequential: true });
  for (const item of items) {
    if (batch.length >= maxSize || !rule.admits(item)) {
      batches.push(batch);
      batch = [];
      rule = new BatchRule({ sequential: true });
    }
    rule.add(item);
    batch.push(item);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Throws if a batch breaks the rule: the statement's answers would then be wrong, so it must never be sent. */
export function assertBatchRule(items: readonly CheckedMovement[]): void {
  const rule = new BatchRule({ sequential: false });
  for (const item of items) {
    if (!rule.admits(item))
      throw new Error(`a batch holds ${item.id} against the batch rule (same id, or a second debit of ${item.fromId})`);
    rule.add(item);
  }
}
