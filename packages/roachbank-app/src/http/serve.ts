import type { Flavor } from 'roachbank';
import { ensureSchema, RoachbankError } from 'roachbank';
import { openDatabase } from '../database/open-database.js';
import { isLoopback } from './bearer-auth.js';
import { buildServer } from './build-server.js';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly flavor: Flavor;
  /** Group commit of the `pg` flavor; default on. */
  readonly batch?: boolean;
  /** Default: ROACHBANK_API_TOKEN. */
  readonly token?: string | undefined;
}

/**
 * `roachbank serve`: opens the database, migrates, listens, and on SIGTERM or
 * SIGINT stops accepting, lets in-flight requests finish, closes the pool (and
 * the embedded server, if it was the last user) and exits 0.
 *
 * Refuses to listen beyond loopback without an API token.
 *
 * @example
 * await serve({ host: '127.0.0.1', port: 8080, flavor: 'pg' });
 */
export async function serve(options: ServeOptions): Promise<void> {
  const token = options.token ?? (process.env.ROACHBANK_API_TOKEN || undefined);
  if (!token && !isLoopback(options.host)) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `refusing to listen on ${options.host} without an API token: set ROACHBANK_API_TOKEN, or listen on 127.0.0.1`,
    );
  }
  const db = await openDatabase({ maxConnections: 20 });
  let app: Awaited<ReturnType<typeof buildServer>>;
  try {
    await ensureSchema(db.pool);
    app = await buildServer({
      pool: db.pool,
      flavor: options.flavor,
      ...(options.batch === false ? { batch: false as const } : {}),
      token,
      logger: { level: process.env.ROACHBANK_LOG_LEVEL ?? 'info', redact: ['req.headers.authorization'] },
    });
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await db.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const base = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  process.stderr.write(
    `roachbank: serving ${base} (UI ${base}/, API reference ${base}/docs, ${token ? 'bearer token required' : 'no token: loopback only'})\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    void app
      .close()
      .then(() => db.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
