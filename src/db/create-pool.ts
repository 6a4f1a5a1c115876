import pg from 'pg';
import { poolConfigFromUrl } from './pool-config.js';

/** Pool settings a caller may change; the connection itself comes from the URL. */
export interface CreatePoolOptions {
  /** Most connections open at once. Default 10. */
  readonly max?: number;
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
export function createPool(connectionString: string, options: CreatePoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ ...poolConfigFromUrl(connectionString), max: options.max ?? 10 });
  pool.on('error', () => {});
  return pool;
}
