import type pg from 'pg';
import type { VerifyReport } from 'roachbank';
import type { HttpMetrics } from './http-metrics.js';

/** What the server did in one interval, as the console's live panel charts it. */
export interface ActivitySample {
  /** When the interval ended (ISO 8601). */
  readonly at: string;
  /** Movements that moved money (replays and refusals left out), per second. */
  readonly movementsPerSecond: number;
  /** Latency of the requests that move money, in milliseconds; null when there were none. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Transactions the retry core ran again, and commits of unknown outcome it resolved, in the interval. */
  readonly retries: number;
  readonly ambiguousResolved: number;
  /** Movements per batch statement in the interval; null when no batch ran. */
  readonly meanBatchSize: number | null;
  /** The pool's connections at the interval's end. */
  readonly poolTotal: number;
  readonly poolIdle: number;
  readonly poolWaiting: number;
}

/** The last `verify` the server ran, and when. */
export interface LastVerify {
  readonly at: string;
  readonly report: VerifyReport;
}

export interface SystemActivity {
  /** Counts one request that moves money, with how long it took. */
  recordMoneyRequest(ms: number): void;
  recordVerify(report: VerifyReport): void;
  /** The samples of the last minutes, oldest first, and the last verify. */
  snapshot(): { intervalSeconds: number; samples: readonly ActivitySample[]; lastVerify: LastVerify | null };
  /** Stops sampling (the server closes). */
  stop(): void;
}

/** The routes whose requests move money: their latency is the panel's p50 and p99. */
export const moneyRoutes: ReadonlySet<string> = new Set([
  'POST /transfers',
  'POST /transfers/batch',
  'POST /accounts/:id/deposits',
  'POST /accounts/:id/withdrawals',
  'POST /holds',
  'POST /holds/:id/post',
  'POST /holds/:id/void',
  'POST /transfers/:id/reversals',
]);

/**
 * Samples the server's own counters every `intervalSeconds` and keeps the last
 * `keep` samples in memory: the console reads them as JSON (GET /system/activity),
 * never Prometheus text. Nothing here touches the database, so the panel still
 * answers, with what it last saw, while the database is down.
 */
export function startSystemActivity(
  metrics: HttpMetrics,
  pool: pg.Pool,
  { intervalSeconds = 2, keep = 150 }: { intervalSeconds?: number; keep?: number } = {},
): SystemActivity {
  const samples: ActivitySample[] = [];
  let durations: number[] = [];
  let lastVerify: LastVerify | null = null;
  let before = { moved: 0, retries: 0, ambiguous: 0, batchSum: 0, batchCount: 0 };
  let lastTick = performance.now();

  const totals = async () => {
    const [transfers, retries, ambiguous, batch] = await Promise.all([
      metrics.transfers.get(),
      metrics.retries.get(),
      metrics.ambiguous.get(),
      metrics.batchSize.get(),
    ]);
    const sumOf = (values: readonly { value: number; metricName?: string }[], name?: string) =>
      values.filter((v) => name === undefined || v.metricName === name).reduce((sum, v) => sum + v.value, 0);
    return {
      moved: sumOf(transfers.values.filter((v) => v.labels.outcome === 'created')),
      retries: sumOf(retries.values),
      ambiguous: sumOf(ambiguous.values),
      batchSum: sumOf(batch.values, 'roachbank_batch_size_sum'),
      batchCount: sumOf(batch.values, 'roachbank_batch_size_count'),
    };
  };

  const tick = async () => {
    const now = performance.now();
    const seconds = (now - lastTick) / 1000;
    lastTick = now;
    const after = await totals();
    const sorted = durations.sort((a, b) => a - b);
    durations = [];
    const quantile = (q: number) =>
      sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
    const batches = after.batchCount - before.batchCount;
    samples.push({
      at: new Date().toISOString(),
      movementsPerSecond: round((after.moved - before.moved) / seconds),
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      retries: after.retries - before.retries,
      ambiguousResolved: after.ambiguous - before.ambiguous,
      meanBatchSize: batches === 0 ? null : round((after.batchSum - before.batchSum) / batches),
      poolTotal: pool.totalCount,
      poolIdle: pool.idleCount,
      poolWaiting: pool.waitingCount,
    });
    if (samples.length > keep) samples.shift();
    before = after;
  };

  const timer = setInterval(() => void tick(), intervalSeconds * 1000);
  timer.unref();
  return {
    recordMoneyRequest: (ms) => void durations.push(ms),
    recordVerify: (report) => {
      lastVerify = { at: new Date().toISOString(), report };
    },
    snapshot: () => ({ intervalSeconds, samples: [...samples], lastVerify }),
    stop: () => clearInterval(timer),
  };
}

const round = (value: number) => Math.round(value * 100) / 100;
