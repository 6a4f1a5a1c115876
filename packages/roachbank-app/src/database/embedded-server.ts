import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, chown, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';
import { createPool } from 'roachbank';
import { type EmbeddedBinaries, embeddedBinaries } from './embedded-binaries.js';
import { type OsUser, postgresOsUser, reachableBy } from './postgres-os-user.js';

export interface EmbeddedServerOptions {
  /** Where the server's files live. Default: `ROACHBANK_DATA_DIR`, else `.data/` in the project. */
  readonly dataDir?: string;
  /** More postgresql.conf settings, applied each time this process starts the server. */
  readonly settings?: Readonly<Record<string, string>>;
  /** A certificate and key to serve TLS with (applied when this process starts the server). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Progress of slow steps (initialising, starting, stopping); silent by default. */
  readonly log?: (message: string) => void;
}

/** This process's claim on the running embedded server. */
export interface EmbeddedServerLease {
  /** Connection string of the `roachbank` database (superuser `postgres`, loopback only, no password). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server's log file. */
  readonly logFile: string;
  /** True if this process started the server, false if it joined one already running. */
  readonly startedHere: boolean;
  /** Gives the claim up; the last process to let go stops the server. Idempotent. */
  release(): Promise<void>;
}

const databaseName = 'roachbank';
const superuser = 'postgres';
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Starts the embedded PostgreSQL, or joins it if another roachbank process
 * already runs it, and returns a lease on it.
 *
 * 1. Under a file lock in the data directory (so two processes never start or
 *    stop the server at once), records a lease for this process.
 * 2. Initialises the cluster on first use: loopback only, SERIALIZABLE by
 *    default, a `roachbank` database; as root it runs as the `postgres` account.
 * 3. Starts the server on a free port unless it is already running.
 *
 * Releasing the lease stops the server once no live process holds one (leases
 * of processes that died are ignored), so a CLI command run beside
 * `roachbank serve` neither fails nor stops the server under it.
 *
 * @example
 * const server = await acquireEmbeddedServer();
 * const pool = createPool(server.url);
 * // ...
 * await pool.end();
 * await server.release();
 */
export async function acquireEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServerLease> {
  const user = postgresOsUser();
  const dataDir = await prepareDataDir(options.dataDir ?? defaultDataDir(user), user);
  const cluster = clusterPaths(dataDir);
  const leaseFile = join(cluster.leases, `${process.pid}-${randomUUID()}`);
  const log = options.log ?? (() => {});

  const binaries = await embeddedBinaries(user);
  const server = { binaries, user, cluster };

  const unlock = await lockDataDir(dataDir);
  let port: number;
  let startedHere = false;
  try {
    await writeFile(leaseFile, `${process.pid}\n`);
    const running = await runningPort(server);
    if (running !== undefined) {
      port = running;
    } else {
      if (!existsSync(join(cluster.pgdata, 'PG_VERSION'))) {
        log('initialising the embedded PostgreSQL cluster');
        await initialise(server);
      }
      port = await freePort();
      await writeSettings(cluster, port, options, user);
      log(`starting the embedded PostgreSQL on 127.0.0.1:${port}`);
      await pgCtl(server, ['start', '-D', cluster.pgdata, '-l', cluster.logFile, '-w', '-t', '60']);
      startedHere = true;
      await ensureDatabase(port);
    }
  } catch (error) {
    await rm(leaseFile, { force: true });
    throw error;
  } finally {
    await unlock();
  }

  let released = false;
  return {
    url: `postgresql://${superuser}@127.0.0.1:${port}/${databaseName}`,
    port,
    dataDir,
    logFile: cluster.logFile,
    startedHere,
    async release() {
      if (released) return;
      released = true;
      const unlockAgain = await lockDataDir(dataDir);
      try {
        await rm(leaseFile, { force: true });
        if ((await liveLeases(cluster)) === 0 && (await runningPort(server)) !== undefined) {
          log('stopping the embedded PostgreSQL');
          await pgCtl(server, ['stop', '-D', cluster.pgdata, '-m', 'fast', '-w', '-t', '60']);
        }
      } finally {
        await unlockAgain();
      }
    },
  };
}

/**
 * Crashes (`pg_ctl stop -m immediate`: no shutdown checkpoint, backends killed),
 * begins a smart shutdown (`-m smart`, not waited for: the sessions open go on,
 * new ones are refused with 57P03 until the last one ends) or starts again, on
 * the same port, the embedded server of `dataDir`, as the account it runs as.
 * For fault injection; leases are left as they are.
 *
 * @example
 * await controlEmbeddedServer(lease.dataDir, 'crash');
 * await controlEmbeddedServer(lease.dataDir, 'start'); // crash recovery, then ready
 */
export async function controlEmbeddedServer(dataDir: string, action: 'crash' | 'shutdown' | 'start'): Promise<void> {
  const user = postgresOsUser();
  const server = { binaries: await embeddedBinaries(user), user, cluster: clusterPaths(resolve(dataDir)) };
  const { pgdata, logFile } = server.cluster;
  const args = {
    crash: ['stop', '-D', pgdata, '-m', 'immediate', '-w'],
    shutdown: ['stop', '-D', pgdata, '-m', 'smart', '-W'],
    start: ['start', '-D', pgdata, '-l', logFile, '-w', '-t', '60'],
  };
  await pgCtl(server, args[action]);
}

function clusterPaths(dataDir: string) {
  return {
    pgdata: join(dataDir, 'pg'),
    leases: join(dataDir, 'leases'),
    logFile: join(dataDir, 'postgres.log'),
  };
}
type ClusterPaths = ReturnType<typeof clusterPaths>;
interface Server {
  readonly binaries: EmbeddedBinaries;
  readonly user: OsUser | undefined;
  readonly cluster: ClusterPaths;
}

/**
 * `.data/` in the project; as root, a directory under the system's temp folder
 * instead when the `postgres` account cannot reach the project (a clone inside
 * a private home or a `mktemp -d` folder), named after the project's path so it
 * stays the same on every run.
 */
function defaultDataDir(user: OsUser | undefined): string {
  const fromEnv = process.env.ROACHBANK_DATA_DIR;
  if (fromEnv) return resolve(fromEnv);
  const local = join(projectRoot, '.data');
  if (!user || reachableBy(user, projectRoot)) return local;
  const hash = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  return join(tmpdir(), `roachbank-${hash}`);
}

/** The data directory must be open to all (mode 777) for a server that runs as another account than root. */
async function prepareDataDir(dataDir: string, user: OsUser | undefined): Promise<string> {
  const dir = resolve(dataDir);
  await mkdir(join(dir, 'leases'), { recursive: true });
  if (user) {
    if (!reachableBy(user, dirname(dir))) {
      throw new Error(`the ${user.name} account cannot reach ${dir}: choose another ROACHBANK_DATA_DIR`);
    }
    await chmod(dir, 0o777);
    await chmod(join(dir, 'leases'), 0o777);
  }
  return dir;
}

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  return lockfile.lock(dataDir, {
    lockfilePath: join(dataDir, 'server.lock'),
    stale: 30_000,
    retries: { retries: 600, minTimeout: 50, maxTimeout: 200 },
  });
}

async function initialise({ binaries, user, cluster }: Server): Promise<void> {
  await rm(cluster.pgdata, { recursive: true, force: true });
  await run(user, binaries.initdb, [
    '-D',
    cluster.pgdata,
    '-U',
    superuser,
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ]);
  // The superuser may connect from loopback without a password; any other role needs its password.
  await writeFile(
    join(cluster.pgdata, 'pg_hba.conf'),
    [
      `host all ${superuser} 127.0.0.1/32 trust`,
      `host all ${superuser} ::1/128 trust`,
      'host all all 127.0.0.1/32 scram-sha-256',
      'host all all ::1/128 scram-sha-256',
      '',
    ].join('\n'),
  );
  await appendFile(join(cluster.pgdata, 'postgresql.conf'), "\ninclude_if_exists = 'roachbank.conf'\n");
}

async function writeSettings(
  cluster: ClusterPaths,
  port: number,
  options: EmbeddedServerOptions,
  user: OsUser | undefined,
): Promise<void> {
  const settings: Record<string, string> = {
    port: String(port),
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: "''",
    default_transaction_isolation: "'serializable'",
    max_connections: '200',
    ...options.settings,
  };
  if (options.tls) {
    const cert = join(cluster.pgdata, 'server.crt');
    const key = join(cluster.pgdata, 'server.key');
    await copyFile(options.tls.certFile, cert);
    await copyFile(options.tls.keyFile, key);
    await chmod(key, 0o600);
    if (user) {
      await chown(cert, user.uid, user.gid);
      await chown(key, user.uid, user.gid);
    }
    Object.assign(settings, { ssl: 'on', ssl_cert_file: "'server.crt'", ssl_key_file: "'server.key'" });
  }
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`);
  await writeFile(join(cluster.pgdata, 'roachbank.conf'), `# Written by roachbank at each start.\n${lines.join('\n')}\n`);
}

/** The port of the server running on this data directory, or undefined if none runs. */
async function runningPort({ cluster }: Server): Promise<number | undefined> {
  // What `pg_ctl status` checks (the pid file's postmaster is alive), without spawning it:
  // a process start is most of what joining a running server used to cost.
  const pidFile = await readFile(join(cluster.pgdata, 'postmaster.pid'), 'utf8').catch(() => '');
  const lines = pidFile.split('\n');
  if (!isAlive(Number(lines[0]))) return undefined;
  const port = Number(lines[3]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** Counts the leases of processes still alive, deleting those of processes that died. */
async function liveLeases(cluster: ClusterPaths): Promise<number> {
  let live = 0;
  for (const name of await readdir(cluster.leases)) {
    const pid = Number(name.split('-')[0]);
    if (isAlive(pid)) live++;
    else await rm(join(cluster.leases, name), { force: true });
  }
  return live;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const pool = createPool(`postgresql://${superuser}@127.0.0.1:${port}/postgres?sslmode=disable`, { max: 1 });
  try {
    const { rowCount } = await pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (rowCount === 0) await pool.query(`CREATE DATABASE ${databaseName}`);
  } finally {
    await pool.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function pgCtl({ binaries, user, cluster }: Server, args: string[]): Promise<void> {
  const { code, output } = await run(user, binaries.pgCtl, args, { allowFailure: true });
  if (code !== 0) {
    const log = await readFile(cluster.logFile, 'utf8').catch(() => '');
    const tail = log.trim().split('\n').slice(-5).join('\n');
    throw new Error(`pg_ctl ${args[0]} failed (exit ${code}): ${output.trim()}${tail ? `\n${tail}` : ''}`);
  }
}

function run(
  user: OsUser | undefined,
  command: string,
  args: string[],
  options: { allowFailure?: boolean } = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0 && !options.allowFailure) {
        reject(new Error(`${command.split('/').pop()} failed (exit ${code}): ${output.trim()}`));
      } else {
        resolveRun({ code: code ?? 1, output });
      }
    });
  });
}
