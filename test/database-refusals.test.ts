// Every way a database refuses a session is DATABASE_UNAVAILABLE: 503 problem+json
// from every route and /healthz, exit 5 from the CLI, one line that names the
// cause, nothing written. One case per SQLSTATE of `refusedSessionStates`, each
// produced by the real server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { classifyError, refusedSessionStates, sqlState } from '../packages/roachbank/src/txn/classify-error.js';
import { describeConnectionError } from '../packages/roachbank/src/txn/describe-connection-error.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { type PrivateServer, startPrivateServer } from './support/private-server.js';
import { runCli } from './support/run-cli.js';
import { adminUrl, createTestDatabase, type TestDatabase } from './support/test-database.js';

/** The API on `url`, listening on loopback; closed by the caller. */
async function apiOn(url: string): Promise<{ app: FastifyInstance; pool: pg.Pool; base: string }> {
  const pool = createPool(url, { max: 4, statementIsolation: 'read committed' });
  const app = await buildServer({ pool, databaseUrl: url, flavor: 'pg' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, pool, base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}

/**
 * Every route that needs the database (or the first `routes` of them, where each
 * answer waits out the retries of a refusal that may pass) answers 503
 * DATABASE_UNAVAILABLE naming `cause`.
 */
async function expectApiRefused(
  base: string,
  accountId: string,
  cause: RegExp,
  routes = Number.POSITIVE_INFINITY,
): Promise<void> {
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
  const requests: Array<[string, () => Promise<Response>]> = [
    ['GET /healthz', () => fetch(`${base}/healthz`)],
    ['GET /accounts', () => fetch(`${base}/accounts`)],
    ['POST /accounts/{id}/deposits', () => post(`/accounts/${accountId}/deposits`, { amount: '5' })],
    ['GET /accounts/{id}', () => fetch(`${base}/accounts/${accountId}`)],
    ['POST /accounts', () => post('/accounts', { balance: '5' })],
    ['GET /verify', () => fetch(`${base}/verify`)],
  ];
  for (const [label, request] of requests.slice(0, routes)) {
    const response = await request();
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(response.status, 503, `${label}: ${JSON.stringify(problem)}`);
    assert.equal(problem.code, 'DATABASE_UNAVAILABLE', label);
    assert.match(problem.detail, cause, label);
  }
}

/** The CLI exits 5 with one line naming `cause`, for a read and a write. */
async function expectCliRefused(url: string, accountId: string, cause: RegExp): Promise<void> {
  for (const args of [
    ['accounts', 'list'],
    ['deposit', accountId, '5'],
  ]) {
    const cli = await runCli(args, { DATABASE_URL: url });
    assert.equal(cli.code, 5, `${args.join(' ')}: ${cli.stderr}`);
    assert.match(cli.stderr, /^roachbank: DATABASE_UNAVAILABLE: /);
    assert.match(cli.stderr, cause);
    assert.equal(cli.stderr.trim().split('\n').length, 1, 'one line');
    assert.doesNotMatch(cli.stderr, /password|secret-pw/i);
  }
}

/** The last session ended, so the server finishes its shutdown; starts it once it has (within 10 s). */
async function startOnceStopped(server: PrivateServer): Promise<void> {
  for (let tries = 1; ; tries++) {
    const started = await server.start().then(
      () => true,
      (error: unknown) => {
        if (tries >= 40) throw error;
        return false;
      },
    );
    if (started) return;
    await sleep(250);
  }
}

describe('a database that refuses sessions', () => {
  let db: TestDatabase;
  let accountId: string;
  const name = () => new URL(db.url).pathname.slice(1);
  const admin = () => createPool(adminUrl(), { max: 1 });
  const journalSize = async () => Number((await db.pool.query('SELECT count(*) AS n FROM roachbank.transfers')).rows[0].n);

  before(async () => {
    db = await createTestDatabase('refusals');
    await ensureSchema(db.pool);
    accountId = (await createBank(db.pool, { batch: false }).createAccount({ balance: 10n })).id;
  });
  after(() => db.drop());

  test('the table names every refusing SQLSTATE with its cause', () => {
    assert.deepEqual(Object.keys(refusedSessionStates).sort(), ['3D000', '53300', '55000', '57P01', '57P02', '57P03']);
  });

  test('55000: ALLOW_CONNECTIONS false (sessions ended, new ones refused)', async () => {
    const api = await apiOn(db.url);
    const before = await journalSize();
    const control = admin();
    try {
      await control.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS false`);
      await control.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name()]);
      const cause = /the database is not accepting connections \(.*SQLSTATE 55000\)/;
      await expectApiRefused(api.base, accountId, cause);
      await expectCliRefused(db.url, accountId, cause);
    } finally {
      await control.query(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`);
      await control.end();
      await api.app.close();
      await api.pool.end();
    }
    assert.equal(await journalSize(), before, 'nothing written');
  });

  test('53300: a role at its connection limit', async () => {
    const role = `limited_${randomUUID().slice(0, 8)}`;
    const control = admin();
    await control.query(`CREATE ROLE ${role} LOGIN PASSWORD 'secret-pw' CONNECTION LIMIT 0`);
    const url = new URL(db.url);
    url.username = role;
    url.password = 'secret-pw';
    const api = await apiOn(url.toString());
    try {
      const cause = /no free connection slot .*SQLSTATE 53300/;
      await expectApiRefused(api.base, accountId, cause);
      await expectCliRefused(url.toString(), accountId, cause);
    } finally {
      await api.app.close();
      await api.pool.end();
      await control.query(`DROP ROLE ${role}`);
      await control.end();
    }
  });

  test('3D000: a database that does not exist', async () => {
    const url = new URL(db.url);
    url.pathname = `/missing_${randomUUID().slice(0, 8)}`;
    const api = await apiOn(url.toString());
    try {
      const cause = /the database does not exist .*SQLSTATE 3D000/;
      await expectApiRefused(api.base, accountId, cause);
      await expectCliRefused(url.toString(), accountId, cause);
    } finally {
      await api.app.close();
      await api.pool.end();
    }
  });

  describe('a server of its own: sessions ended, a crash, a shutdown', () => {
    let server: PrivateServer;
    before(async () => {
      server = await startPrivateServer();
    });
    after(() => server.remove());

    /** The error a statement gets when `end` ends its session from the outside, as the server sent it. */
    async function endedSession(end: (pid: number) => Promise<void>): Promise<unknown> {
      const client = new pg.Client({ connectionString: server.url });
      client.on('error', () => {});
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const running = client.query('SELECT pg_sleep(30)').then(
        () => undefined,
        (error: unknown) => error,
      );
      await sleep(200);
      await end(rows[0]!.pid);
      const error = await running;
      await client.end().catch(() => {});
      return error;
    }

    /** Waits (bounded: 30 s) until the server takes sessions again, after a crash's recovery. */
    async function untilAccepting(): Promise<void> {
      for (let tries = 1; ; tries++) {
        const client = new pg.Client({ connectionString: server.url });
        client.on('error', () => {});
        const up = await client.connect().then(
          () => true,
          () => false,
        );
        await client.end().catch(() => {});
        if (up) return;
        if (tries >= 120) throw new Error('the server did not come back after its crash');
        await sleep(250);
      }
    }

    test('57P01 (session terminated) and a crash of another backend: connection failures with their cause', async () => {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      const terminated = await endedSession(async (pid) => {
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      });
      await admin.end();
      // A backend killed outright: the postmaster ends every other session (57P02) and recovers.
      const victim = new pg.Client({ connectionString: server.url });
      victim.on('error', () => {});
      await victim.connect();
      const victimPid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const crashed = await endedSession(async () => {
        process.kill(victimPid, 'SIGKILL');
      });
      await victim.end().catch(() => {});
      await untilAccepting();
      // PostgreSQL 18 here closes the other sessions of a crash without sending them its
      // 57P02 first (the client sees the socket close): either way a connection failure.
      const crashState = sqlState(crashed) === '57P02' ? '57P02' : undefined;
      for (const [error, state, cause] of [
        [terminated, '57P01', /the server ended the session .*SQLSTATE 57P01/],
        [crashed, crashState, crashState ? /the server is restarting after a crash .*SQLSTATE 57P02/ : /Connection terminated/],
      ] as const) {
        assert.equal(sqlState(error), state, String(error));
        assert.equal(classifyError(error), 'connection', `${String(error)} is retried on a new connection`);
        const described = describeConnectionError(error, server.url);
        assert.equal(described?.code, 'DATABASE_UNAVAILABLE', String(error));
        assert.match(described!.message, cause);
      }
    });

    test('57P03: new sessions are refused while a shutdown waits for the last open one', async () => {
      const setup = createPool(server.url, { max: 1 });
      await ensureSchema(setup);
      const id = (await createBank(setup, { batch: false }).createAccount({ balance: 10n })).id;
      await setup.end();
      const api = await apiOn(server.url);
      const holder = createPool(server.url, { max: 1 });
      const held = await holder.connect(); // keeps the smart shutdown waiting
      try {
        await held.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
        );
        await server.shutDown();
        const cause = /the server is starting up or shutting down .*SQLSTATE 57P03/;
        // 57P03 is retried (a server starting up is soon ready): each answer takes ~2 s here.
        await expectApiRefused(api.base, id, cause, 3);
        await expectCliRefused(server.url, id, cause);
      } finally {
        held.release();
        await holder.end();
        await api.app.close();
        await api.pool.end().catch(() => {});
        await startOnceStopped(server);
      }
    });
  });
});
