import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Bank } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { runWorkload } from '../packages/roachbank-app/src/workload/run-workload.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('workload', { max: 20 });
  await ensureSchema(db.pool);
});
after(() => db.drop());

describe('roachbank workload', () => {
  for (const flavor of ['pg', 'orm'] as const) {
    test(`--json (${flavor}): acknowledged transfers, percentiles, and the invariant holds`, async () => {
      const result = await runCli(
        [
          '--json',
          '--flavor',
          flavor,
          'workload',
          '--accounts',
          '30',
          '--concurrency',
          '6',
          '--transfers',
          '600',
          '--hot',
          '4',
          '--readers',
          '1',
          '--seed',
          '11',
        ],
        { DATABASE_URL: db.url },
      );
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      for (const key of ['ops', 'opsPerSec', 'p50Ms', 'p95Ms', 'p99Ms', 'maxMs', 'retries', 'errors', 'ambiguous']) {
        assert.equal(typeof summary[key], 'number', key);
      }
      assert.equal(summary.ops + summary.refused + summary.errors, 600);
      assert.equal(summary.errors, 0, summary.lastError);
      assert.ok(summary.p50Ms > 0 && summary.p50Ms <= summary.p99Ms && summary.p99Ms <= summary.maxMs);
      assert.equal(summary.invariant.ok, true);
      assert.ok(summary.invariant.reads > 0, 'the reader read');
      assert.equal(summary.seed, 11);
      assert.match(result.stderr, /seed 11 \(repeat with --seed 11\)/);
      // An outside audit: every balance of the bank against the journal, in plain SQL.
      const { rows } = await db.pool.query(`
        SELECT count(*)::int AS off FROM roachbank.accounts a
        WHERE a.balance <> COALESCE((SELECT sum(amount) FROM roachbank.transfers WHERE to_id = a.id), 0)
                         - COALESCE((SELECT sum(amount) FROM roachbank.transfers WHERE from_id = a.id), 0)`);
      assert.equal(rows[0].off, 0);
    });
  }

  test('a progress line a second on stderr, and an HTML report with charts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roachbank-report-'));
    try {
      const report = join(dir, 'run.html');
      const result = await runCli(
        ['workload', '--accounts', '20', '--concurrency', '4', '--duration', '2200ms', '--report', report],
        { DATABASE_URL: db.url },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /_elapsed___errors____ops\/s____p50\(ms\)____p95\(ms\)____p99\(ms\)____max\(ms\)___retries/);
      assert.ok(result.stderr.split('\n').filter((l) => /^\s+\d+\.\ds\s/.test(l)).length >= 2, result.stderr);
      assert.match(result.stdout, /transfers acknowledged/);
      assert.match(result.stdout, /invariant ok/);
      const html = await readFile(report, 'utf8');
      assert.match(html, /<svg[\s\S]*<polyline/);
      assert.match(html, /Throughput[\s\S]*Latency percentiles/);
      assert.doesNotMatch(html, /<script|https?:\/\//, 'self-contained');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const flavor of ['pg', 'orm'] as const) {
    test(`--holds 40 (${flavor}): card flows beside transfers; every hold ends as its flow allows`, async () => {
      const args = ['--json', '--flavor', flavor, 'workload', '--accounts', '20', '--concurrency', '6'];
      const result = await runCli([...args, '--transfers', '300', '--holds', '40', '--readers', '1', '--seed', '7'], {
        DATABASE_URL: db.url,
      });
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.errors, 0, summary.lastError);
      assert.equal(summary.invariant.ok, true, JSON.stringify(summary.invariant));
      assert.ok(summary.invariant.holdsChecked > 50, `${summary.invariant.holdsChecked} holds checked`);
      assert.equal(summary.invariant.holdsWrong, 0);
      const { rows } = await db.pool.query<{ status: string }>(
        "SELECT DISTINCT CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END AS status FROM roachbank.holds",
      );
      assert.deepEqual(rows.map((r) => r.status).sort(), ['expired', 'pending', 'posted', 'voided']);
      const reversals = await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE reversal_of IS NOT NULL');
      assert.ok(reversals.rows[0].n > 0, 'some captures were refunded');
    });
  }

  test('--currencies 3: accounts in three currencies, movements inside each, the audit per currency', async () => {
    const args = ['--json', 'workload', '--accounts', '12', '--concurrency', '6', '--currencies', '3', '--holds', '20'];
    const result = await runCli([...args, '--transfers', '300', '--readers', '1', '--seed', '11'], { DATABASE_URL: db.url });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.errors, 0, summary.lastError);
    assert.equal(summary.invariant.ok, true, JSON.stringify(summary.invariant));
    assert.ok(summary.invariant.reads > 0);
    // Every journal row of the run is in the currency of both its accounts, and all three took part.
    const { rows } = await db.pool.query<{ currency: string; foreign: number; n: number }>(
      `SELECT t.currency, count(*) FILTER (WHERE f.currency <> t.currency OR d.currency <> t.currency)::int AS foreign, count(*)::int AS n
       FROM roachbank.transfers AS t JOIN roachbank.accounts AS f ON f.id = t.from_id JOIN roachbank.accounts AS d ON d.id = t.to_id
       WHERE t.currency IN ('USD', 'EUR', 'JPY') GROUP BY t.currency ORDER BY t.currency`,
    );
    assert.deepEqual(
      rows.map((r) => [r.currency, r.foreign, r.n > 10]),
      [
        ['EUR', 0, true],
        ['JPY', 0, true],
        ['USD', 0, true],
      ],
    );
  });

  test('bad options are usage errors', async () => {
    for (const args of [
      ['--accounts', '1'],
      ['--concurrency', '0'],
      ['--duration', 'soon'],
      ['--hot', '50', '--accounts', '10'],
      ['--currencies', '6', '--accounts', '10'],
      ['--currencies', '0'],
      ['--transfers', '-3'],
      ['--readers', 'x'],
      ['--holds', '101'],
    ]) {
      const result = await runCli(['workload', ...args], { DATABASE_URL: db.url });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^roachbank: INVALID_ARGUMENT: /);
    }
  });

  test('the audit catches a bank that acknowledges transfers it did not make', async () => {
    const honest = createBank(db.pool);
    let calls = 0;
    const lying: Bank = new Proxy(honest, {
      get(target, property, receiver) {
        if (property === 'transfer') {
          return async (request: Parameters<Bank['transfer']>[0]) => {
            if (++calls % 10 === 0) return { transfer: { ...request, id: request.id!, createdAt: new Date() }, replayed: false };
            return target.transfer(request);
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const summary = await runWorkload(lying, { accounts: 10, concurrency: 2, transfers: 100, seed: 5 });
    assert.equal(summary.ops, 100);
    assert.equal(summary.invariant.ok, false);
    assert.ok(summary.invariant.mismatchedAccounts > 0);
    assert.equal(summary.invariant.verifyOk, true, "the bank's own books still balance: only the client can see the lie");
  });

  test('the audit catches a bank that acknowledges voids it did not make', async () => {
    const honest = createBank(db.pool);
    const lying: Bank = new Proxy(honest, {
      get(target, property, receiver) {
        if (property === 'voidHold') {
          return async (holdId: string) => ({ hold: await target.getHold(holdId), replayed: false });
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const summary = await runWorkload(lying, { accounts: 10, concurrency: 2, transfers: 200, seed: 5, holdsPercent: 60 });
    assert.equal(summary.invariant.ok, false);
    assert.ok(summary.invariant.holdsWrong > 0, JSON.stringify(summary.invariant));
    assert.equal(summary.invariant.verifyOk, true, "the bank's books balance: only the client can see the lie");
  });
});
