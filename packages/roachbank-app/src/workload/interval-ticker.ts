import type { BankCounters } from './bank-counters.js';
import type { BatchCount, IntervalStats } from './run-workload.js';
import type { WorkloadRunState } from './workload-run-state.js';

/** Once a second while transfers run: the interval's throughput, latency, errors, retries and batch size. */
export class IntervalTicker {
  readonly intervals: IntervalStats[] = [];
  readonly started = performance.now();
  readonly #state: WorkloadRunState;
  readonly #counters: BankCounters;
  readonly #onInterval: ((interval: IntervalStats) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastTick = this.started;
  #opsAtLastTick = 0;
  #batchesAtLastTick: BatchCount;

  constructor(state: WorkloadRunState, counters: BankCounters, onInterval?: (interval: IntervalStats) => void) {
    this.#state = state;
    this.#counters = counters;
    this.#onInterval = onInterval;
    this.#batchesAtLastTick = counters.batchesBefore;
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  /** Stops the clock. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The last, partial interval (unless one just ended), so a short run has one too. */
  finish(): void {
    if (performance.now() - this.#lastTick > 200 || this.intervals.length === 0) this.#tick();
  }

  #tick(): void {
    const now = performance.now();
    const { counts, latency } = this.#state;
    const interval: IntervalStats = {
      ...latency.takeInterval(),
      elapsedS: Math.round((now - this.started) / 100) / 10,
      opsPerSec: Math.round(((counts.ops - this.#opsAtLastTick) / ((now - this.#lastTick) / 1000)) * 10) / 10,
      errors: counts.errors,
      retries: this.#counters.retries(),
      meanBatchSize: this.#counters.meanBatchSize(this.#batchesAtLastTick),
    };
    this.#lastTick = now;
    this.#opsAtLastTick = counts.ops;
    this.#batchesAtLastTick = this.#counters.batches();
    this.intervals.push(interval);
    this.#onInterval?.(interval);
  }
}
