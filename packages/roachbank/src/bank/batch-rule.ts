import type { CheckedMovement } from './movement.js';

/**
 * Which movements may share one batch statement (DESIGN §7).
 *
 * The statement checks every debit against the balance its source had when the
 * statement locked it, then applies every accepted item at once. That is the
 * outcome of a serial order (every refused item first, then every accepted
 * item in any order) as long as a batch never holds
 *
 * - two items with the same id, or naming the same subject (the hold a post or
 *   void settles, the row a reversal reverses) or one's id as the other's subject:
 *   the second would be a replay of the first, or would be checked against the
 *   same hold or reversed total, which the statement reads before either writes;
 * - two items that debit the same account's available balance (a transfer, a
 *   withdrawal, a hold, a reversal): each would be checked against the same
 *   balance, and together they could overdraw it.
 *
 * What the other kinds do to an account: a deposit credits it; a post moves
 * money its hold already reserved, so it lowers the source's balance and its
 * `held` by at least as much (the hold's whole amount) and never lowers its
 * available balance, which is what every debit is checked against; a void (and
 * an expiry) only raises it. So a post or void joins a batch that debits the
 * same source: whatever order they run in, that debit's check passes.
 *
 * Why the order is serial: a refused item changes nothing, so running it first
 * changes nothing for the others, and it saw exactly the balance it would see
 * first. An accepted item's source is debited by no other item of the batch, so
 * between the start of the statement and its own debit that source can only have
 * received credits: run in any order after the refused ones, its check passes
 * again. Opening and closing accounts never happen inside a batch, so "open" means
 * the same for every item. The balances written are the sums of the accepted items'
 * changes, which is what running them one by one would leave; a credit that would
 * pass 2^63 − 1 before some debit of the same account but not in the sum passes in
 * the serial order that runs the debits first.
 *
 * `sequential` adds the rule that makes the serial order the input order, for
 * `transferMany`: no item debits an account that an earlier item of the batch
 * credits (the later item must see that credit, which only a later batch shows).
 * A refused item is then refused in input order too, because no earlier item of
 * its batch touched its source, and the accepted ones commute.
 */
export class BatchRule {
  readonly #sequential: boolean;
  /** Ids and subjects of the batch's items. */
  readonly #keys = new Set<string>();
  readonly #debited = new Set<string>();
  readonly #credited = new Set<string>();

  constructor(options: { sequential: boolean }) {
    this.#sequential = options.sequential;
  }

  /** Whether the movement may join the batch under the rule. */
  admits(item: CheckedMovement): boolean {
    if (keysOf(item).some((key) => this.#keys.has(key))) return false;
    const debited = debitedBy(item);
    if (debited !== null && (this.#debited.has(debited) || (this.#sequential && this.#credited.has(debited)))) {
      return false;
    }
    return true;
  }

  /** Adds a movement that `admits` allowed. */
  add(item: CheckedMovement): void {
    for (const key of keysOf(item)) this.#keys.add(key);
    const debited = debitedBy(item);
    if (debited !== null) this.#debited.add(debited);
    for (const account of creditedBy(item)) this.#credited.add(account);
  }
}

/** The ids an item is recorded under or settles. */
function keysOf(item: CheckedMovement): string[] {
  if (item.kind === 'post' || item.kind === 'void') return item.holdId === item.id ? [item.id] : [item.id, item.holdId];
  if (item.kind === 'reversal') return [item.id, item.reversalOf];
  return [item.id];
}

/** The account whose available balance the item's check reads, if any. */
function debitedBy(item: CheckedMovement): string | null {
  return item.kind === 'post' || item.kind === 'void' ? null : item.fromId;
}

/** The accounts whose available balance the item raises. */
function creditedBy(item: CheckedMovement): string[] {
  if (item.kind === 'post') return item.toId === null ? [item.fromId] : [item.fromId, item.toId];
  if (item.kind === 'void') return [item.fromId];
  if (item.kind === 'hold') return [];
  return item.toId === null ? [] : [item.toId];
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
      throw new Error(
        `a batch holds ${item.id} against the batch rule (an id or subject twice, or a second debit of ${item.fromId})`,
      );
    rule.add(item);
  }
}
