import type { Pool } from 'pg';
import pg from './pg-driver.js';
import { poolConfigFromUrl } from './pool-config.js';
import { mergeStartupOptions } from './startup-options.js';

/** Pool settings a caller may change; the connection itself comes from the URL. */
export interface CreatePoolOptions {
  /** Most connections open at once. Default 10. */
  readonly max?: number;
  /**
   * The session's default isolation, which is what single statements outside
   * BEGIN run at (`runTransaction` always names its own). roachbank's own pools
   * use `read committed`: the bank's one-statement transfer then runs prepared in
   * one round trip, waiting on a contended row instead of failing with 40001.
   * Default: the server's (SERIALIZABLE on the embedded server and CockroachDB).
   */
  readonly statementIsolation?: 'read committed' | 'serializable';
  /**
   * How long one connect may take, in ms, when the URL has no `connect_timeout`.
   * Default 4000 (`waitBounds`); 0 waits forever.
   */
  readonly connectTimeoutMs?: number;
}

/**
 * A node-postgres pool for a connection string, with libpq-like TLS
 * (see `poolConfigFromUrl`). Connects lazily, on first use.
 *
 * An idle connection that dies (server restart, terminated backend) is dropped
 * by the pool; the listener here keeps that from crashing the process.
 *
 * @example
 * const pool = createPool(process.env.DATABASE_URL!);
 * await pool.query('SELECT 1');
 * await pool.end();
 */
export function createPool(connectionString: string, options: CreatePoolOptions = {}): Pool {
  if (options.connectTimeoutMs !== undefined && !(Number.isInteger(options.connectTimeoutMs) && options.connectTimeoutMs >= 0)) {
    throw new RangeError(`connectTimeoutMs must be a whole number of ms ≥ 0, got ${options.connectTimeoutMs}`);
  }
  const config = poolConfigFromUrl(
    connectionString,
    options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs },
  );
  // Startup options, so every connection has them from the start and a pooled one keeps
  // them; the URL's own `options` are joined with these, its value winning on a name.
  const own = new Map<string, string>();
  if (options.statementIsolation) own.set('default_transaction_isolation', options.statementIsolation);
  const startup = mergeStartupOptions(own, config.options);
  if (startup) config.options = startup;
  const pool = new pg.Pool({ ...config, max: options.max ?? 10 });
  pool.on('error', () => {});
  // node-postgres emits 'error' on a client whose socket fails while checked out, and pg-pool
  // listens only while it is idle: a data layer that never listens (Kysely) would crash the
  // process. The failure still reaches the statement that was running, and the retry core.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
