// One retry contract, proved for every data layer roachbank adapts (Drizzle,
// Kysely, Knex, TypeORM, Sequelize, Prisma) on the real server: serialization
// failures injected by the database itself, connections cut by the wire proxy
// before and after COMMIT, an error the callback swallows, and contention.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AmbiguousCommitError } from '../packages/roachbank/src/txn/ambiguous-commit-error.js';
import { classifyError, sqlState } from '../packages/roachbank/src/txn/classify-error.js';
import { RetriesExhaustedError } from '../packages/roachbank/src/txn/retries-exhausted-error.js';
import type { RetryEvent } from '../packages/roachbank/src/txn/run-transaction.js';
import { contractTables, dataLayers, type LayerUnderTest } from './support/data-layers.js';
import { failFirstAttemptsSql } from './support/injected-failures.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startWireProxy, type WireProxy } from './support/wire-proxy.js';

const failingAttempts = 3;
const isInsert = (text: string | undefined) => /^\s*insert\b/i.test(text ?? '');
const isCommit = (text: string | undefined) => /^\s*commit\s*;?\s*$/i.test(text ?? '');

for (const [name, open] of Object.entries(dataLayers)) {
  describe(`the retry contract through ${name}`, () => {
    let db: TestDatabase;
    let layer: LayerUnderTest;
    let proxy: WireProxy;
    let proxied: LayerUnderTest;

    before(async () => {
      db = await createTestDatabase(`layer_${name}`);
      await db.pool.query(`
        ${contractTables}
        ${failFirstAttemptsSql(failingAttempts)}`);
      layer = await open(db.url);
      proxy = await startWireProxy(Number(new URL(db.url).port));
      proxied = await open(proxy.urlThrough(db.url));
    });
    after(async () => {
      await proxied?.close();
      await proxy?.close();
      await layer?.close();
      await db?.drop();
    });

    const items = async () => (await db.pool.query<{ n: string }>('SELECT n FROM items ORDER BY n')).rows.map((r) => Number(r.n));
    const clear = () => db.pool.query('DELETE FROM items');
    const injectFailures = () =>
      db.pool.query(
        'CREATE TRIGGER fail_first_attempts BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION fail_first_attempts()',
      );
    const stopFailures = () => db.pool.query('DROP TRIGGER IF EXISTS fail_first_attempts ON items');
    beforeEach(async () => {
      proxy.setPolicy(() => 'forward');
      await stopFailures();
      await clear();
    });
    const newTransaction = () => db.pool.query("SELECT setval('attempt_counter', 1, false)");

    test('injected 40001s: every transaction commits on attempt 4, after exactly 3 retries', async () => {
      await injectFailures();
      try {
        const events: RetryEvent[] = [];
        for (let n = 1; n <= 5; n++) {
          await newTransaction();
          const attempt = await layer.run(
            async (tx, attempt) => {
              await layer.insertItem(tx, n);
              return attempt;
            },
            { baseDelayMs: 1, onRetry: (event) => events.push(event) },
          );
          assert.equal(attempt, failingAttempts + 1);
        }
        assert.equal(events.length, 5 * failingAttempts);
        for (const event of events) {
          assert.equal(sqlState(event.error), '40001', `the SQLSTATE is found under ${name}'s wrapping`);
        }
        assert.deepEqual(await items(), [1, 2, 3, 4, 5]);
      } finally {
        await stopFailures();
        await clear();
      }
    });

    test('maxAttempts 2: RETRIES_EXHAUSTED with the 40001 as cause, and nothing written', async () => {
      await injectFailures();
      try {
        await newTransaction();
        await assert.rejects(
          layer.run((tx) => layer.insertItem(tx, 9), { maxAttempts: 2, baseDelayMs: 1 }),
          (error) => {
            assert.ok(error instanceof RetriesExhaustedError, String(error));
            assert.equal(error.code, 'RETRIES_EXHAUSTED');
            assert.equal(error.attempts, 2);
            assert.equal(sqlState(error.cause), '40001');
            return true;
          },
        );
        assert.deepEqual(await items(), []);
      } finally {
        await stopFailures();
      }
    });

    test('a connection cut before COMMIT is retried on a new connection; the row is written once', async () => {
      let cut = false;
      proxy.setPolicy((m) => {
        if (cut || !isInsert(m.sql ?? m.statement) || (m.type !== 'Q' && m.type !== 'P' && m.type !== 'B')) return 'forward';
        cut = true;
        return 'cut-before';
      });
      const kinds: string[] = [];
      let calls = 0;
      const cutsBefore = proxy.cuts.before;
      await proxied.run(
        async (tx) => {
          calls++;
          await proxied.insertItem(tx, 11);
        },
        { baseDelayMs: 1, onRetry: (event) => kinds.push(classifyError(event.error)) },
      );
      proxy.setPolicy(() => 'forward');
      assert.equal(proxy.cuts.before, cutsBefore + 1);
      assert.equal(calls, 2);
      assert.deepEqual(kinds, ['connection'], `${name}'s lost-connection error is classified as such`);
      assert.deepEqual(await items(), [11]);
      // The broken connection did not go back into the pool: the next transaction needs no retry.
      const again: RetryEvent[] = [];
      await proxied.run((tx) => proxied.insertItem(tx, 12), { onRetry: (event) => again.push(event) });
      assert.deepEqual(again, []);
      assert.deepEqual(await items(), [11, 12]);
      await clear();
    });

    test('a connection lost once COMMIT was sent is AMBIGUOUS_COMMIT, never retried', async () => {
      proxy.setPolicy((m) => (m.type === 'Q' && isCommit(m.sql) ? 'cut-after' : 'forward'));
      let calls = 0;
      await assert.rejects(
        proxied.run(
          async (tx) => {
            calls++;
            await proxied.insertItem(tx, 7);
          },
          { baseDelayMs: 1 },
        ),
        (error) => error instanceof AmbiguousCommitError && error.code === 'AMBIGUOUS_COMMIT',
      );
      proxy.setPolicy(() => 'forward');
      assert.equal(calls, 1, 'an ambiguous commit must not be retried blindly');
      assert.deepEqual(await items(), [7], 'cut after the server acted on COMMIT: it committed');
      const again: RetryEvent[] = [];
      await proxied.run((tx) => proxied.insertItem(tx, 8), { onRetry: (event) => again.push(event) });
      assert.deepEqual(again, [], 'the connection cut under COMMIT is not handed out again');
      await clear();
    });

    test('an error the callback swallows is not committed as success', async () => {
      const id = randomUUID();
      await db.pool.query('INSERT INTO accounts VALUES ($1, 0)', [id]);
      await assert.rejects(
        layer.run(async (tx) => {
          await layer.insertItem(tx, 5);
          await layer.insertAccount(tx, id).catch(() => {}); // 23505, caught and ignored
          return 'looks fine';
        }),
        (error) => error instanceof Error && /aborted|25P02/.test(`${error.message} ${sqlState(error) ?? ''}`),
      );
      assert.deepEqual(await items(), [], 'the row inserted before the swallowed error was not committed');
      await db.pool.query('DELETE FROM accounts WHERE id = $1', [id]);
    });

    test('readOnly: the transaction is opened READ ONLY, so a write in it is refused (25006), not retried', async () => {
      let calls = 0;
      await assert.rejects(
        layer.run(
          async (tx) => {
            calls++;
            await layer.insertItem(tx, 3);
          },
          { readOnly: true },
        ),
        (error) => sqlState(error) === '25006',
      );
      assert.equal(calls, 1);
      assert.deepEqual(await items(), []);
    });

    test('16 concurrent read-modify-write increments of one balance under SERIALIZABLE end exactly right', async () => {
      const id = randomUUID();
      await db.pool.query('INSERT INTO accounts VALUES ($1, 0)', [id]);
      let retries = 0;
      await Promise.all(
        Array.from({ length: 16 }, () =>
          layer.run((tx) => layer.addToBalance(tx, id, 1), {
            maxAttempts: 50,
            baseDelayMs: 2,
            maxDelayMs: 50,
            onRetry: () => retries++,
          }),
        ),
      );
      const { rows } = await db.pool.query<{ balance: string }>('SELECT balance FROM accounts WHERE id = $1', [id]);
      assert.equal(rows[0]?.balance, '16', `16 increments, ${retries} retries`);
    });
  });
}
