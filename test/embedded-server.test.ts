import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import pg from 'pg';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';
import { runCli } from './support/run-cli.js';

const dirs: string[] = [];
async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'roachbank-embedded-'));
  dirs.push(dir);
  return dir;
}
const running = (dataDir: string) => existsSync(join(dataDir, 'pg', 'postmaster.pid'));
const leases = async (dataDir: string) => readdir(join(dataDir, 'leases'));

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('the embedded PostgreSQL', () => {
  test('starts on demand, SERIALIZABLE by default, loopback only; a second lease joins; the last one stops it', async () => {
    const dataDir = await freshDataDir();
    const first = await acquireEmbeddedServer({ dataDir });
    assert.equal(first.startedHere, true);
    assert.match(first.url, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/roachbank$/);
    const [settings] = await query<{ isolation: string; listen: string }>(
      first.url,
      "SELECT current_setting('default_transaction_isolation') AS isolation, current_setting('listen_addresses') AS listen",
    );
    assert.deepEqual(settings, { isolation: 'serializable', listen: '127.0.0.1' });

    const second = await acquireEmbeddedServer({ dataDir });
    assert.equal(second.startedHere, false);
    assert.equal(second.port, first.port);

    await first.release();
    assert.ok(running(dataDir), 'the server must outlive the first lease while another is held');
    assert.deepEqual(await query(second.url, 'SELECT 1 AS one'), [{ one: 1 }]);

    await second.release();
    assert.ok(!running(dataDir), 'the last release stops the server');
    assert.deepEqual(await leases(dataDir), []);
    await second.release(); // idempotent
  });

  test('a CLI command joins a server another process holds, and leaves it running', async () => {
    const dataDir = await freshDataDir();
    const held = await acquireEmbeddedServer({ dataDir });
    const result = await runCli(['example', 'hello'], { ROACHBANK_DATA_DIR: dataDir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\(1, 900\)/);
    assert.ok(running(dataDir));
    assert.deepEqual(await query(held.url, 'SELECT 1 AS one'), [{ one: 1 }]);
    await held.release();
    assert.ok(!running(dataDir));
  });

  test('three CLI processes at once all work, and the server is stopped after the last', async () => {
    const dataDir = await freshDataDir();
    const env = { ROACHBANK_DATA_DIR: dataDir };
    const results = await Promise.all([
      runCli(['db', 'status'], env),
      runCli(['db', 'init'], env),
      runCli(['db', 'status'], env),
    ]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.ok(!running(dataDir));
    assert.deepEqual(await leases(dataDir), []);
  });

  test('a lease left by a process that died does not keep the server alive', async () => {
    const dataDir = await freshDataDir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const lease = await acquireEmbeddedServer({ dataDir });
    await writeFile(join(dataDir, 'leases', `${dead}-left-behind`), `${dead}\n`);
    await lease.release();
    assert.ok(!running(dataDir));
    assert.deepEqual(await leases(dataDir), []);
  });

  test('Ctrl-C during a command still stops the server cleanly', async () => {
    const dataDir = await freshDataDir();
    let interrupted = false;
    const result = await runCli(['example', 'hello'], { ROACHBANK_DATA_DIR: dataDir }, (stdout, child) => {
      if (!interrupted && stdout.includes('Balances at')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(interrupted);
    // The demo may finish before the signal lands; either way nothing is left behind.
    if (result.code === 130) assert.equal(result.stderr, 'roachbank: SIGINT, closing the database\n');
    else assert.equal(result.code, 0, result.stderr);
    assert.ok(!running(dataDir), 'the server must be stopped');
    assert.deepEqual(await leases(dataDir), []);
  });

  test('asking for TLS from a server without it fails with a clear line', async () => {
    const dataDir = await freshDataDir();
    const lease = await acquireEmbeddedServer({ dataDir });
    try {
      const result = await runCli(['db', 'status'], { DATABASE_URL: `${lease.url}?sslmode=require` });
      assert.equal(result.code, 5);
      assert.match(result.stderr, /TLS: the server does not accept TLS connections/);
    } finally {
      await lease.release();
    }
  });

  test('restarts on the data it kept', async () => {
    const dataDir = await freshDataDir();
    const first = await acquireEmbeddedServer({ dataDir });
    await query(first.url, 'CREATE TABLE kept (id INT)');
    await first.release();
    const again = await acquireEmbeddedServer({ dataDir });
    assert.equal(again.startedHere, true);
    assert.deepEqual(await query(again.url, "SELECT to_regclass('kept')::text AS t"), [{ t: 'kept' }]);
    await again.release();
  });
});

describe('running as root', { skip: process.getuid?.() !== 0 && 'only as root' }, () => {
  test("the postgres account's reach is judged from every folder above the path", async () => {
    const { postgresOsUser, reachableBy } = await import('../packages/roachbank-app/src/database/postgres-os-user.js');
    const user = postgresOsUser()!;
    const privateDir = await freshDataDir(); // mkdtemp: mode 700, owned by root
    await writeFile(join(privateDir, 'file'), '');
    assert.equal(reachableBy(user, tmpdir()), true);
    assert.equal(reachableBy(user, join(privateDir, 'file')), false);
  });
});
