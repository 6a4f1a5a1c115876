import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Flavor } from '../../packages/roachbank/src/bank/bank.js';
import { ensureSchema } from '../../packages/roachbank/src/db/migrate.js';
import { buildServer } from '../../packages/roachbank-app/src/http/build-server.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface TestServer {
  readonly base: string;
  readonly app: FastifyInstance;
  readonly db: TestDatabase;
  /** Every log line the server wrote. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** A stream for the server's logger that keeps every line it writes in `lines`. */
export function logSink(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().trim().split('\n'));
      done();
    },
  });
}

/** The real server on 127.0.0.1 and a free port, on a fresh database. */
export async function startTestServer(options: { token?: string; flavor?: Flavor; name?: string } = {}): Promise<TestServer> {
  const db = await createTestDatabase(options.name ?? 'http', { max: 20 });
  await ensureSchema(db.pool);
  const logs: string[] = [];
  const stream = logSink(logs);
  const app = await buildServer({
    pool: db.pool,
    databaseUrl: db.url,
    flavor: options.flavor ?? 'pg',
    token: options.token,
    logger: { level: 'info', stream, redact: ['req.headers.authorization'] },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    app,
    db,
    logs,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
