// The HTTP API and the CLI while the database is down (crashed with
// `pg_ctl stop -m immediate`) and after it comes back: 503 problem+json and
// exit 5 with one clear line while down, never a 500 or a stack trace, and
// recovery without a restart of the HTTP server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { logSink } from './support/http-server.js';
import { type PrivateServer, startPrivateServer } from './support/private-server.js';
import { runCli } from './support/run-cli.js';

describe('surfaces while the database is down', () => {
  let server: PrivateServer;
  let pool: pg.Pool;
  let app: FastifyInstance;
  let base: string;
  const logs: string[] = [];
  const accounts: string[] = [];

  before(async () => {
    server = await startPrivateServer();
    pool = createPool(server.url, { max: 5, statementIsolation: 'read committed' });
    await ensureSchema(pool);
    app = await buildServer({ pool, databaseUrl: server.url, flavor: 'pg', logger: { level: 'info', stream: logSink(logs) } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    for (const balance of ['100', '0']) {
      const response = await post('/accounts', { balance });
      assert.equal(response.status, 201);
      accounts.push(((await response.json()) as { id: string }).id);
    }
  });
  after(async () => {
    await app.close();
    await pool.end();
    await server.remove();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  test('a statement cancelled by statement_timeout is 503 DATABASE_UNAVAILABLE over HTTP and exit 5 in the CLI, and changes nothing', async () => {
    const [account] = accounts as [string];
    const holder = await pool.connect();
    try {
      // Hold the account's row, and make every session give up waiting for it after 100 ms.
      await holder.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await holder.query('SELECT 1 FROM roachbank.accounts WHERE id = $1 FOR UPDATE', [account]);
      await pool.query("ALTER SYSTEM SET statement_timeout = '100ms'");
      await pool.query('SELECT pg_reload_conf()');
      await sleep(200); // sessions take the reloaded setting between statements

      const response = await post(`/accounts/${account}/deposits`, { amount: '5' });
      const problem = (await response.json()) as { code: string; detail: string };
      assert.equal(response.status, 503);
      assert.equal(problem.code, 'DATABASE_UNAVAILABLE');
      assert.match(problem.detail, /cancelled the statement \(statement_timeout/);

      const cli = await runCli(['deposit', account, '5'], { DATABASE_URL: server.url });
      assert.equal(cli.code, 5, cli.stderr);
      assert.match(cli.stderr, /^roachbank: DATABASE_UNAVAILABLE: postgres@127\.0\.0\.1:\d+\/roachbank cancelled the statement/);
      assert.equal(cli.stderr.trim().split('\n').length, 1);

      // A batch: each item the same code, over HTTP and from a file in the CLI.
      const item = { toId: account, amount: '5' };
      const batch = await post('/transfers/batch', { items: [{ id: randomUUID(), ...item }] });
      assert.equal(batch.status, 200);
      const [answer] = ((await batch.json()) as { items: { status: number; problem: { code: string } }[] }).items;
      assert.deepEqual([answer?.status, answer?.problem.code], [503, 'DATABASE_UNAVAILABLE']);
      const file = join(await mkdtemp(join(tmpdir(), 'roachbank-faults-')), 'deposit.jsonl');
      await writeFile(file, `${JSON.stringify({ id: randomUUID(), ...item })}\n`);
      const fromFile = await runCli(['transfer', '--file', file], { DATABASE_URL: server.url });
      assert.equal(fromFile.code, 5, fromFile.stderr);
      assert.match(
        fromFile.stdout,
        /^line 1: DATABASE_UNAVAILABLE: postgres@127\.0\.0\.1:\d+\/roachbank cancelled the statement/,
      );
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await pool.query('ALTER SYSTEM RESET statement_timeout');
      await pool.query('SELECT pg_reload_conf()');
    }
    const balance = ((await (await fetch(`${base}/accounts/${account}`)).json()) as { balance: string }).balance;
    assert.equal(balance, '100', 'nothing was deposited');
  });

  test('HTTP answers 503 problem+json on every database route while it is down, then recovers by itself; the CLI exits 5', async () => {
    const [from, to] = accounts as [string, string];
    const transferKey = randomUUID();
    await server.crash();
    try {
      const requests: Array<[string, () => Promise<Response>]> = [
        ['GET /healthz', () => fetch(`${base}/healthz`)],
        ['GET /accounts', () => fetch(`${base}/accounts`)],
        [`GET /accounts/{id}`, () => fetch(`${base}/accounts/${from}`)],
        ['GET /verify', () => fetch(`${base}/verify`)],
        ['POST /accounts', () => post('/accounts', { balance: '5' })],
        [
          'POST /transfers',
          () => post('/transfers', { fromId: from, toId: to, amount: '30' }, { 'idempotency-key': transferKey }),
        ],
      ];
      for (const [label, request] of requests) {
        const response = await request();
        assert.equal(response.status, 503, label);
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
        const problem = (await response.json()) as { code: string; status: number; detail: string };
        assert.equal(problem.status, 503, label);
        assert.ok(['DATABASE_UNAVAILABLE', 'RETRIES_EXHAUSTED'].includes(problem.code), `${label}: ${problem.code}`);
        assert.doesNotMatch(problem.detail, /\n\s+at /, `${label}: no stack trace`);
      }

      for (const args of [
        ['accounts', 'list'],
        ['transfer', from, to, '30'],
      ]) {
        const cli = await runCli(args, { DATABASE_URL: server.url });
        assert.equal(cli.code, 5, `${args.join(' ')}: ${cli.stderr}`);
        assert.match(
          cli.stderr,
          /^roachbank: DATABASE_UNAVAILABLE: cannot connect to postgres@127\.0\.0\.1:\d+\/roachbank: connection refused/,
        );
        assert.equal(cli.stderr.trim().split('\n').length, 1, 'one line');
        assert.equal(cli.stdout, '');
      }
    } finally {
      await server.start();
    }

    // Back without restarting anything on our side: the pool drops its dead connections.
    const healedAt = Date.now();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await fetch(`${base}/accounts`)).status;
      if (status !== 200) await sleep(100);
    }
    assert.equal(status, 200, 'the API recovered');
    assert.ok(Date.now() - healedAt < 2000, `recovered in ${Date.now() - healedAt} ms`);

    // The client retries the transfer that got 503 with the same key: it happens once.
    for (let i = 0; i < 2; i++) {
      const retried = await post('/transfers', { fromId: from, toId: to, amount: '30' }, { 'idempotency-key': transferKey });
      assert.equal(retried.status, 201);
    }
    const balances = await Promise.all(
      accounts.map(async (id) => ((await (await fetch(`${base}/accounts/${id}`)).json()) as { balance: string }).balance),
    );
    assert.deepEqual(balances, ['70', '30']);
    assert.equal(((await (await fetch(`${base}/verify`)).json()) as { ok: boolean }).ok, true);
    assert.ok(!logs.some((line) => /"statusCode":500/.test(line)), 'never a 500');
  });
});
