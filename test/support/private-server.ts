import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireEmbeddedServer, controlEmbeddedServer } from '../../packages/roachbank-app/src/database/embedded-server.js';

/** An embedded PostgreSQL of one suite's own, which the suite may crash and start again. */
export interface PrivateServer {
  /** The `roachbank` database, as the superuser. */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl stop -m immediate`: every backend killed, no shutdown checkpoint. */
  crash(): Promise<void>;
  /** Begins a smart shutdown: open sessions go on, new ones are refused (57P03) until the last ends. */
  shutDown(): Promise<void>;
  /** Starts it again on the same port (crash recovery first); resolves once it accepts connections. */
  start(): Promise<void>;
  /** How many lines of the server's log match. */
  countLogLines(pattern: RegExp): Promise<number>;
  /** Stops it and deletes its files. */
  remove(): Promise<void>;
}

/** Starts a fresh server in a temporary directory; the run's shared test server is never crashed. */
export async function startPrivateServer(settings: Record<string, string> = {}): Promise<PrivateServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'roachbank-faults-'));
  const lease = await acquireEmbeddedServer({ dataDir, settings: { max_connections: '200', ...settings } });
  return {
    url: lease.url,
    port: lease.port,
    async crash() {
      await controlEmbeddedServer(dataDir, 'crash');
    },
    async shutDown() {
      await controlEmbeddedServer(dataDir, 'shutdown');
    },
    async start() {
      await controlEmbeddedServer(dataDir, 'start');
    },
    async countLogLines(pattern) {
      const log = await readFile(lease.logFile, 'utf8');
      return log.split('\n').filter((line) => pattern.test(line)).length;
    },
    async remove() {
      await lease.release();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
