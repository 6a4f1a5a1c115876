// Reads through a connection that loses 30 % of the statements roachbank sends
// (cut before the server sees them, or after it answered and before the answer
// arrives): a read has no outcome to lose, so every read of the retry core, the
// CLI and the HTTP API is sent again and answers, or says DATABASE_UNAVAILABLE
// once its budget is spent; never AMBIGUOUS_COMMIT, never "cannot connect" to a
// server it had reached, and nothing is written.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { type Flavor, flavors } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { AmbiguousCommitError } from '../packages/roachbank/src/txn/ambiguous-commit-error.js';
import { ConnectionLostError } from '../packages/roachbank/src/txn/connection-lost-error.js';
import { describeConnectionError } from '../packages/roachbank/src/txn/describe-connection-error.js';
import { RetriesExhaustedError } from '../packages/roachbank/src/txn/retries-exhausted-error.js';
import { runSingleStatement, runTransaction } from '../packages/roachbank/src/txn/run-transaction.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { seededRandom } from '../packages/roachbank-app/src/workload/seeded-random.js';
import { logSink } from './support/http-server.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { type ClientMessage, startWireProxy, type Verdict, type WireProxy } from './support/wire-proxy.js';

/** The messages that make the server act: a simple Query, or the Sync that ends an extended-protocol statement. */
const acts = (m: ClientMessage) => m.type === 'Q' || m.type === 'S';

/** Cuts `share` of the statements, half before the server sees them and half after it answered. */
function flaky(seed: number, share = 0.3): (m: ClientMessage) => Verdict {
  const random = seededRandom(seed);
  return (m) => {
    if (!acts(m) || random.int(1, 1000) > share * 1000) return 'forward';
    return random.int(0, 1) === 0 ? 'cut-before' : 'cut-after';
  };
}

let db: TestDatabase;
let proxy: WireProxy;
let through: pg.Pool;
const ids = { from: '', to: '', transfer: '' };
let before_: { balances: string[]; journal: string };

const snapshot = async () => ({
  balances: (await db.pool.query<{ b: string }>('SELECT balance::TEXT AS b FROM roachbank.accounts ORDER BY id')).rows.map(
    (r) => r.b,
  ),
  journal: (await db.pool.query<{ n: string }>('SELECT count(*)::TEXT AS n FROM roachbank.transfers')).rows[0]!.n,
});

before(async () => {
  db = await createTestDatabase('reads', { statementIsolation: 'read committed' });
  await ensureSchema(db.pool);
  const bank = createBank(db.pool, { batch: false });
  ids.from = (await bank.createAccount({ balance: 1000n })).id;
  ids.to = (await bank.createAccount()).id;
  ids.transfer = (await bank.transfer({ fromId: ids.from, toId: ids.to, amount: 100n })).transfer.id;
  await db.pool.query('CREATE TABLE probe (n INT8)');
  proxy = await startWireProxy(Number(new URL(db.url).port));
  through = createPool(proxy.urlThrough(db.url), { max: 4, statementIsolation: 'read committed' });
  before_ = await snapshot();
});
after(async () => {
  await through.end();
  await proxy.close();
  await db.drop();
});

describe('the retry core, for statements that only read', () => {
  test('a read whose answer was lost is sent again; the same cut on a write is an ambiguous commit', async () => {
    let cut = 0;
    proxy.setPolicy((m) => (acts(m) && cut++ === 0 ? 'cut-after' : 'forward'));
    let attempts = 0;
    const { rows } = await runSingleStatement(
      through,
      (client, attempt) => {
        attempts = attempt;
        return client.query<{ n: number }>('SELECT 41 + 1 AS n');
      },
      { readOnly: true, baseDelayMs: 1 },
    );
    assert.equal(rows[0]!.n, 42);
    assert.equal(attempts, 2, 'the answer was lost once');

    cut = 0;
    await assert.rejects(
      runSingleStatement(through, (client) => client.query('INSERT INTO probe VALUES (1)'), { baseDelayMs: 1 }),
      AmbiguousCommitError,
    );
    proxy.setPolicy(() => 'forward');
  });

  test('a READ ONLY transaction whose COMMIT answer was lost is run again, and the server refuses a write in it', async () => {
    let cut = 0;
    proxy.setPolicy((m) => (/^\s*COMMIT/i.test(m.sql ?? '') && cut++ === 0 ? 'cut-after' : 'forward'));
    let calls = 0;
    const n = await runTransaction(
      through,
      async (client) => {
        calls++;
        return (await client.query<{ n: string }>('SELECT count(*)::TEXT AS n FROM probe')).rows[0]!.n;
      },
      { readOnly: true, baseDelayMs: 1 },
    );
    assert.equal(n, '1');
    assert.equal(calls, 2, 'COMMIT was cut once and the whole transaction ran again');
    proxy.setPolicy(() => 'forward');

    await assert.rejects(
      runTransaction(through, (client) => client.query('INSERT INTO probe VALUES (2)'), { readOnly: true }),
      (error: unknown) => (error as { code?: string }).code === '25006', // read_only_sql_transaction
    );
  });

  test('a read that loses its connection every time gives up within its budget and says the connection was lost', async () => {
    proxy.setPolicy((m) => (acts(m) ? 'cut-after' : 'forward'));
    const started = performance.now();
    const error = await runSingleStatement(through, (client) => client.query('SELECT 1'), {
      readOnly: true,
      baseDelayMs: 5,
      maxAttempts: 1000,
      retryBudgetMs: 600,
    }).then(
      () => assert.fail('no read can succeed'),
      (e: unknown) => e,
    );
    proxy.setPolicy(() => 'forward');
    assert.ok(performance.now() - started < 1500, 'the budget bounds the retries');
    assert.ok(error instanceof RetriesExhaustedError);
    assert.ok(error.cause instanceof ConnectionLostError);
    assert.ok(error.elapsedMs !== undefined && error.elapsedMs >= 600);
    const described = describeConnectionError(error, db.url);
    assert.equal(described?.code, 'DATABASE_UNAVAILABLE');
    assert.match(
      described.message,
      /^lost the connection to \S+ during a command: .* \(after \d+ attempts in \d+\.\d s\); nothing was written$/,
    );
  });

  test('an ambiguous commit keeps its own code: it is not described as a connection failure', () => {
    const ambiguous = new AmbiguousCommitError(new Error('Connection terminated unexpectedly'));
    assert.equal(describeConnectionError(ambiguous, db.url), undefined);
  });
});

/** A CLI or HTTP answer under cuts: a success, or DATABASE_UNAVAILABLE saying the connection was lost. */
function assertReadOutcome(ok: boolean, code: string | undefined, message: string, what: string): void {
  if (ok) return;
  assert.notEqual(code, 'AMBIGUOUS_COMMIT', `${what}: a read is never ambiguous: ${message}`);
  assert.equal(code, 'DATABASE_UNAVAILABLE', `${what}: ${message}`);
  assert.doesNotMatch(message, /cannot connect/, `${what}: the connection had been made: ${message}`);
  assert.match(message, /lost the connection to .* during a command/, what);
}

describe('every read of the CLI, with 30 % of its statements cut', () => {
  const reads = (): [string, string[], (stdout: string) => void][] => [
    ['accounts show', ['accounts', 'show', ids.from, '--json'], (out) => assert.equal(JSON.parse(out).balance, '900')],
    ['accounts list', ['accounts', 'list', '--json'], (out) => assert.equal(JSON.parse(out).items.length, 2)],
    ['history', ['history', ids.to, '--json'], (out) => assert.equal(JSON.parse(out).items[0].id, ids.transfer)],
    ['verify', ['verify', '--json'], (out) => assert.equal(JSON.parse(out).ok, true)],
    ['db status', ['db', 'status', '--json'], (out) => assert.equal(JSON.parse(out).migrations[0].state, 'applied')],
  ];
  for (const flavor of flavors) {
    test(`--flavor ${flavor}: each read answers after retries or says DATABASE_UNAVAILABLE; nothing is written`, async () => {
      let answeredAfterCuts = 0;
      for (const [seed, [what, args, check]] of reads().entries()) {
        for (let run = 0; run < 3; run++) {
          const cutsBefore = proxy.cuts.before + proxy.cuts.after;
          proxy.setPolicy(flaky(1000 * seed + 10 * run + flavor.length));
          const result = await runCli([...args, '--flavor', flavor], { DATABASE_URL: proxy.urlThrough(db.url) });
          proxy.setPolicy(() => 'forward');
          const cut = proxy.cuts.before + proxy.cuts.after > cutsBefore;
          if (result.code === 0) {
            check(result.stdout);
            if (cut) answeredAfterCuts++;
          } else {
            const error = JSON.parse(result.stderr.trim().split('\n').at(-1)!).error as { code: string; message: string };
            assertReadOutcome(false, error.code, error.message, `${what} (exit ${result.code})`);
            assert.equal(result.code, 5);
          }
        }
      }
      assert.ok(answeredAfterCuts >= 3, `reads that met a cut and still answered: ${answeredAfterCuts}`);
      assert.deepEqual(await snapshot(), before_, 'nothing was written');
    });
  }
});

describe('every read of the HTTP API, with 30 % of its statements cut', () => {
  for (const flavor of flavors) {
    test(`${flavor}: each GET answers after retries or is a 503 DATABASE_UNAVAILABLE; nothing is written`, async () => {
      const app: FastifyInstance = await buildServer({
        pool: through,
        databaseUrl: db.url,
        flavor: flavor as Flavor,
        logger: { level: 'fatal', stream: logSink([]) },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      const reads: [string, (body: Record<string, unknown>) => void][] = [
        [`/accounts/${ids.from}`, (b) => assert.equal(b.balance, '900')],
        ['/accounts?limit=10', (b) => assert.equal((b.items as unknown[]).length, 2)],
        [`/accounts/${ids.to}/transfers`, (b) => assert.equal((b.items as { id: string }[])[0]!.id, ids.transfer)],
        [`/transfers/${ids.transfer}`, (b) => assert.equal(b.amount, '100')],
        ['/verify', (b) => assert.equal(b.ok, true)],
        ['/healthz', (b) => assert.equal(b.status, 'ok')],
      ];
      let answeredAfterCuts = 0;
      try {
        for (const [seed, [path, check]] of reads.entries()) {
          for (let run = 0; run < 4; run++) {
            const cutsBefore = proxy.cuts.before + proxy.cuts.after;
            proxy.setPolicy(flaky(7000 + 100 * seed + run + flavor.length));
            const response = await fetch(`${base}${path}`);
            proxy.setPolicy(() => 'forward');
            const body = (await response.json()) as Record<string, unknown>;
            if (response.status === 200) {
              check(body);
              if (proxy.cuts.before + proxy.cuts.after > cutsBefore) answeredAfterCuts++;
            } else {
              assert.equal(response.status, 503, `${path}: ${JSON.stringify(body)}`);
              assertReadOutcome(false, body.code as string, body.detail as string, path);
            }
          }
        }
      } finally {
        await app.close();
      }
      assert.ok(answeredAfterCuts >= 4, `reads that met a cut and still answered: ${answeredAfterCuts}`);
      assert.deepEqual(await snapshot(), before_, 'nothing was written');
    });
  }
});
