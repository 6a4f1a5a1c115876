import type pg from 'pg';
import { createPool, detectServer, runRead, type ServerInfo } from 'roachbank';
import { resolveConnectionSource } from './connection-source.js';
import { acquireEmbeddedServer, type EmbeddedServerOptions } from './embedded-server.js';

/** An open connection pool and what it points at. */
export interface Database {
  readonly pool: pg.Pool;
  /** The connection string in use. Secret: print it only through `redactConnectionString`. */
  readonly url: string;
  readonly source: 'url' | 'embedded';
  readonly server: ServerInfo;
  /** Closes the pool and gives up the embedded server lease, if any. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly embedded?: EmbeddedServerOptions;
  /** Most pooled connections. Default 10. */
  readonly maxConnections?: number;
}

/**
 * Connects to `DATABASE_URL`, or to the embedded PostgreSQL (started or joined)
 * when it is unset, and checks the connection at once, so a wrong host,
 * password or certificate fails here with one clear `DATABASE_UNAVAILABLE`
 * line (an unusable URL fails with `INVALID_ARGUMENT`). The check is a read,
 * retried within `waitBounds.retryBudgetMs`, so a database that never answers
 * fails here after that budget, not after the operating system's TCP timeout.
 *
 * @example
 * const db = await openDatabase();
 * try { await runTransaction(db.pool, work) } finally { await db.close() }
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const source = resolveConnectionSource(options.env);
  let url: string;
  let releaseServer = async (): Promise<void> => {};
  if (source.kind === 'url') {
    url = source.url; // createPool rejects an unusable one before any connection is tried
  } else {
    const lease = await acquireEmbeddedServer(options.embedded);
    url = lease.url;
    releaseServer = () => lease.release();
  }

  const pool = createPool(url, { max: options.maxConnections ?? 10, statementIsolation: 'read committed' });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await pool.end().catch(() => {});
    await releaseServer();
  };
  try {
    // A read: retried on a lost connection like any other, within the retry budget.
    const server = await runRead(pool, (client) => detectServer(client));
    return { pool, url, source: source.kind, server, close };
  } catch (error) {
    await close();
    throw error; // runRead has named a database it cannot reach (DATABASE_UNAVAILABLE)
  }
}
