import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own. */
export interface HttpMetrics {
  readonly registry: Registry;
  readonly transfers: Counter<'kind' | 'outcome'>;
  readonly retries: Counter;
  readonly ambiguous: Counter;
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly batchSize: Histogram;
}

/**
 * Transfers by kind and outcome, retries of the retry core, ambiguous commits,
 * request latency, batch sizes, and the pool's connections (read when scraped).
 */
export function createHttpMetrics(pool: pg.Pool): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'roachbank_process_' });
  const transfers = new Counter({
    name: 'roachbank_transfers_total',
    help: 'money movements by kind (transfer, deposit, withdrawal) and outcome (created, replayed, or the error code)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'roachbank_transaction_retries_total',
    help: 'transactions the retry core ran again (40001, 40P01, a lost connection before COMMIT)',
    registers: [registry],
  });
  const ambiguous = new Counter({
    name: 'roachbank_ambiguous_commits_total',
    help: 'commits whose outcome was unknown, each then resolved by the bank',
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'roachbank_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'roachbank_batch_size',
    help: 'money movements per batch statement (group commit and POST /transfers/batch): one statement, one commit each',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  new Gauge({
    name: 'roachbank_pool_connections',
    help: 'database connections of the pool: total, idle, and requests waiting for one',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  return { registry, transfers, retries, ambiguous, requests, batchSize };
}
