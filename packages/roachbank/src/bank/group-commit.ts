import type { MoveAnswer, MovementResult } from './bank.js';
import { BatchRule } from './batch-rule.js';
import type { CheckedMovement } from './movement.js';

/** How batches form: both measured (BENCHMARKS.md), both tunable. */
export interface GroupCommitOptions {
  /**
   * Most movements in one batch statement. Default 128: a full batch's answer then fits
   * in 16 KiB with every column at its widest (`StatementAnswerRow`).
   */
  readonly maxSize?: number;
  /** Most batches sent and not yet answered at once; each holds a connection. Default 2. */
  readonly maxInFlight?: number;
}

export const groupCommitDefaults = { maxSize: 128, maxInFlight: 2 } as const;

/** Sends one batch (it keeps the batch rule) and answers each movement, in order. */
export type BatchRunner = (batch: readonly CheckedMovement[]) => Promise<MovementResult<MoveAnswer>[]>;

interface Waiter {
  readonly item: CheckedMovement;
  readonly resolve: (outcome: MoveAnswer) => void;
  readonly reject: (error: unknown) => void;
  /** Answered, or released by its AbortSignal: nothing more is owed to it. */
  settled: boolean;
  detach?: () => void;
}

/**
 * Group commit: concurrent movements share one statement and one commit.
 *
 * - A call made while fewer than `maxInFlight` batches are out is sent at once
 *   (calls made in the same tick share its batch): no timer, so an idle bank
 *   answers a lone call as fast as the single-statement path.
 * - While batches are out, new calls queue; when one comes back, the queue is
 *   cut into the next batches in arrival order, each keeping the batch rule
 *   (no id twice, no account debited twice) and no id that is still out, so a
 *   request repeated by many callers at once runs once and then replays. A call
 *   that cannot join waits for a later batch, so a hot account simply spreads
 *   over consecutive batches.
 * - A batch sent while others are out leaves aside the calls that touch an
 *   account those hold: they would only wait on its row lock, and hold up the
 *   whole batch with them. So batches over disjoint accounts run side by side,
 *   and on hot accounts one batch at a time takes everything that queued
 *   (measured on 10 hot accounts, c=32: larger batches, fewer lock waits).
 * - A caller whose AbortSignal fires is answered with its reason at once: taken
 *   out of the queue if it was waiting, or left to its batch if that was already
 *   sent (the movement may then still happen; repeat its id to learn).
 *
 * @example
 * const group = new GroupCommit((batch) => runBatch(batch), { maxSize: 128, maxInFlight: 2 });
 * const outcome = await group.submit(movement({ fromId, toId, amount: 100n }));
 */
export class GroupCommit {
  readonly #run: BatchRunner;
  readonly #maxSize: number;
  readonly #maxInFlight: number;
  #queue: Waiter[] = [];
  #inFlight = 0;
  readonly #idsInFlight = new Set<string>();
  /** Accounts touched by the batches that are out, with how many of them touch each. */
  readonly #accountsInFlight = new Map<string, number>();
  #scheduled = false;

  constructor(run: BatchRunner, options: GroupCommitOptions = {}) {
    this.#run = run;
    this.#maxSize = options.maxSize ?? groupCommitDefaults.maxSize;
    this.#maxInFlight = options.maxInFlight ?? groupCommitDefaults.maxInFlight;
    for (const [name, value, most] of [
      ['maxSize', this.#maxSize, 10_000],
      ['maxInFlight', this.#maxInFlight, 1024],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > most)
        throw new RangeError(`${name} must be an integer from 1 to ${most}, got ${value}`);
    }
  }

  /** Queues one movement for the next batch; resolves with its outcome, rejects with its error. */
  submit(item: CheckedMovement, signal?: AbortSignal): Promise<MoveAnswer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<MoveAnswer>((resolve, reject) => {
      const waiter: Waiter = { item, resolve, reject, settled: false };
      if (signal) {
        const onAbort = () => this.#settle(waiter, { ok: false, error: signal.reason });
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(waiter);
      this.#schedule();
    });
  }

  /** Forms batches on the next microtask, so the calls of one tick share a batch. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight) {
      const rule = new BatchRule({ sequential: false });
      const batch: Waiter[] = [];
      const waiting: Waiter[] = [];
      for (const waiter of this.#queue) {
        if (waiter.settled) continue;
        if (batch.length < this.#maxSize && this.#free(waiter.item) && rule.admits(waiter.item)) {
          rule.add(waiter.item);
          batch.push(waiter);
        } else {
          waiting.push(waiter);
        }
      }
      this.#queue = waiting;
      if (batch.length === 0) return;
      void this.#send(batch);
    }
  }

  /** Neither its id nor its accounts are in a batch that is out. */
  #free(item: CheckedMovement): boolean {
    if (this.#idsInFlight.has(item.id)) return false;
    return !accountsOf(item).some((account) => this.#accountsInFlight.has(account));
  }

  #track(batch: readonly Waiter[], out: boolean): void {
    for (const { item } of batch) {
      if (out) this.#idsInFlight.add(item.id);
      else this.#idsInFlight.delete(item.id);
      for (const account of accountsOf(item)) {
        const count = (this.#accountsInFlight.get(account) ?? 0) + (out ? 1 : -1);
        if (count > 0) this.#accountsInFlight.set(account, count);
        else this.#accountsInFlight.delete(account);
      }
    }
  }

  async #send(batch: Waiter[]): Promise<void> {
    this.#inFlight++;
    this.#track(batch, true);
    let answers: MovementResult<MoveAnswer>[];
    try {
      answers = await this.#run(batch.map((waiter) => waiter.item));
    } catch (error) {
      answers = batch.map(() => ({ ok: false, error }));
    }
    this.#inFlight--;
    this.#track(batch, false);
    for (const [i, waiter] of batch.entries()) {
      this.#settle(waiter, answers[i] ?? { ok: false, error: new Error('the batch gave no answer for this movement') });
    }
    // After the callers just answered have had their turn (setImmediate runs once the
    // promise jobs are done), so what they send next joins the next batch.
    setImmediate(() => this.#pump());
  }

  #settle(waiter: Waiter, answer: MovementResult<MoveAnswer>): void {
    if (waiter.settled) return;
    waiter.settled = true;
    waiter.detach?.();
    if (answer.ok) waiter.resolve(answer.outcome);
    else waiter.reject(answer.error);
  }
}

function accountsOf(item: CheckedMovement): string[] {
  return item.fromId === null ? [item.toId!] : item.toId === null ? [item.fromId] : [item.fromId, item.toId];
}
