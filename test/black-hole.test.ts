// A database that never answers: a listener that accepts and stays silent, and
// one that never accepts (its SYNs are dropped). Every wait is bounded: the CLI
// exits 5 with DATABASE_UNAVAILABLE and the API answers 503 within 10 s, by
// default, instead of waiting minutes for the operating system's TCP timeout.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { type BlackHole, startDeafListener, startSilentListener } from './support/black-hole.js';
import { logSink } from './support/http-server.js';
import { runCli } from './support/run-cli.js';

const bound = 10_000;

async function timed<T>(work: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work;
  return [value, performance.now() - started];
}

for (const [kind, start] of [
  ['accepts and never answers', startSilentListener],
  ['never accepts', startDeafListener],
] as const) {
  describe(`a database that ${kind}`, () => {
    let hole: BlackHole;
    let pool: pg.Pool;
    let app: FastifyInstance;
    let base: string;
    before(async () => {
      hole = await start();
      pool = createPool(hole.url, { statementIsolation: 'read committed' });
      app = await buildServer({ pool, databaseUrl: hole.url, flavor: 'pg', logger: { level: 'fatal', stream: logSink([]) } });
      await app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    });
    after(async () => {
      await app.close();
      await pool.end();
      await hole.close();
    });

    test('the CLI and the API give up within 10 s with DATABASE_UNAVAILABLE, naming the wait, never the password', async () => {
      const [from, to] = [randomUUID(), randomUUID()];
      const [[show, showMs], [move, moveMs], [read, readMs], [write, writeMs]] = await Promise.all([
        timed(runCli(['accounts', 'show', from], { DATABASE_URL: hole.url })),
        timed(runCli(['transfer', from, to, '5', '--json'], { DATABASE_URL: hole.url })),
        timed(fetch(`${base}/accounts/${from}`)),
        timed(
          fetch(`${base}/transfers`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ fromId: from, toId: to, amount: '5' }),
          }),
        ),
      ]);

      for (const [what, ms] of [
        ['accounts show', showMs],
        ['transfer', moveMs],
        ['GET', readMs],
        ['POST', writeMs],
      ] as const) {
        assert.ok(ms < bound, `${what} took ${Math.round(ms)} ms`);
      }
      assert.equal(show.code, 5, show.stderr);
      assert.match(
        show.stderr,
        /^roachbank: DATABASE_UNAVAILABLE: cannot connect to teller@127\.0\.0\.1:\d+\/bank: timed out while connecting .*\(after \d+ attempts? in \d+\.\d s\)\n$/,
      );
      assert.equal(move.code, 5, move.stderr);
      assert.equal(JSON.parse(move.stderr).error.code, 'DATABASE_UNAVAILABLE');
      for (const output of [show.stderr, show.stdout, move.stderr, move.stdout]) assert.doesNotMatch(output, /black-hole-secret/);

      for (const response of [read, write]) {
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        const problem = (await response.json()) as { code: string; detail: string };
        assert.equal(problem.code, 'DATABASE_UNAVAILABLE');
        assert.match(problem.detail, /^cannot connect to teller@127\.0\.0\.1:\d+\/bank: timed out while connecting/);
        assert.doesNotMatch(problem.detail, /black-hole-secret/);
      }
    });

    test('connect_timeout in the URL (seconds, as libpq spells it) and the connectTimeoutMs option bound one connect', async () => {
      const viaUrl = createPool(`${hole.url}&connect_timeout=2`, { max: 1 });
      const viaOption = createPool(hole.url, { max: 1, connectTimeoutMs: 300 });
      try {
        const [[urlError, urlMs], [optionError, optionMs]] = await Promise.all([
          timed(
            viaUrl.connect().then(
              () => assert.fail('connected to a black hole'),
              (e: unknown) => e as Error,
            ),
          ),
          timed(
            viaOption.connect().then(
              () => assert.fail('connected to a black hole'),
              (e: unknown) => e as Error,
            ),
          ),
        ]);
        assert.ok(urlMs >= 1900 && urlMs < 4000, `connect_timeout=2 waited ${Math.round(urlMs)} ms`);
        assert.ok(optionMs >= 250 && optionMs < 1500, `connectTimeoutMs: 300 waited ${Math.round(optionMs)} ms`);
        assert.match(urlError.message, /timeout/);
        assert.match(optionError.message, /timeout/);
      } finally {
        await Promise.all([viaUrl.end(), viaOption.end()]);
      }
    });
  });
}

test('a connect_timeout that is not a whole number of seconds is INVALID_ARGUMENT, before any connection', async () => {
  const result = await runCli(['accounts', 'list'], {
    DATABASE_URL: 'postgresql://teller:black-hole-secret@127.0.0.1:9/bank?connect_timeout=soon',
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr,
    'roachbank: INVALID_ARGUMENT: connect_timeout in DATABASE_URL must be a whole number of seconds, got "soon"\n',
  );
});
