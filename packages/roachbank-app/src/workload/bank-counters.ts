import type { BatchCount, WorkloadEvents } from './run-workload.js';

/**
 * The bank's own counters (retries, ambiguous commits, batches) as seen from the
 * start of the transfers: what the setup did is not the run's.
 */
export class BankCounters {
  readonly #events: WorkloadEvents;
  readonly #retriesBefore: number;
  readonly #ambiguousBefore: number;
  readonly batchesBefore: BatchCount;

  constructor(events: WorkloadEvents) {
    this.#events = events;
    this.#retriesBefore = events.retries?.() ?? 0;
    this.#ambiguousBefore = events.ambiguous?.() ?? 0;
    this.batchesBefore = this.batches();
  }

  retries(): number {
    return (this.#events.retries?.() ?? 0) - this.#retriesBefore;
  }

  ambiguous(): number {
    return (this.#events.ambiguous?.() ?? 0) - this.#ambiguousBefore;
  }

  /** A copy: the hook may hand out the same counters object every time. */
  batches(): BatchCount {
    const count = this.#events.batches?.() ?? { batches: 0, movements: 0 };
    return { batches: count.batches, movements: count.movements };
  }

  /** Movements per batch statement since `from`; null when none was batched. */
  meanBatchSize(from: BatchCount = this.batchesBefore): number | null {
    const now = this.batches();
    const batches = now.batches - from.batches;
    return batches === 0 ? null : Math.round(((now.movements - from.movements) / batches) * 10) / 10;
  }
}
