// The retry core under serialization failures injected by the database itself:
// a trigger raises 40001 on the first three attempts of every transaction. The
// attempt count lives in a sequence because nextval() is the one thing a
// rolled-back attempt cannot undo; the test resets it before each transaction,
// so the transactions run one after another.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Bank } from '../packages/roachbank/src/bank/bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { runOrmTransaction } from '../packages/roachbank/src/orm/run-orm-transaction.js';
import { sqlState } from '../packages/roachbank/src/txn/classify-error.js';
import { RetriesExhaustedError } from '../packages/roachbank/src/txn/retries-exhausted-error.js';
import { type RetryEvent, runSingleStatement, runTransaction } from '../packages/roachbank/src/txn/run-transaction.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { failFirstAttemptsSql } from './support/injected-failures.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const failingAttempts = 3;

describe('serialization failures injected on the first 3 attempts of every transaction', () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase('injected');
    await ensureSchema(db.pool);
    await db.pool.query(`
      CREATE TABLE items (n INT8 NOT NULL);
      ${failFirstAttemptsSql(failingAttempts)}
      CREATE TRIGGER fail_first_attempts BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION fail_first_attempts();`);
  });
  after(() => db.drop());

  /** A new transaction: its attempts count from 1 again. */
  const newTransaction = () => db.pool.query("SELECT setval('attempt_counter', 1, false)");
  const itemCount = async () => (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0]?.n;
  const retryLog = () => {
    const events: RetryEvent[] = [];
    return { events, onRetry: (event: RetryEvent) => events.push(event) };
  };

  const ways = {
    runTransaction: (n: number, options: object) =>
      runTransaction(
        db.pool,
        async (client, attempt) => {
          await client.query('INSERT INTO items VALUES ($1)', [n]);
          return attempt;
        },
        options,
      ),
    runSingleStatement: (n: number, options: object) =>
      runSingleStatement(
        db.pool,
        async (client, attempt) => {
          await client.query('INSERT INTO items VALUES ($1)', [n]);
          return attempt;
        },
        options,
      ),
    runOrmTransaction: (n: number, options: object) =>
      runOrmTransaction(
        db.pool,
        async (tx, attempt) => {
          await tx.execute(sql`INSERT INTO items VALUES (${n})`);
          return attempt;
        },
        options,
      ),
  };

  for (const [name, run] of Object.entries(ways)) {
    test(`${name}: every transaction commits on attempt 4, after exactly 3 retries`, async () => {
      const itemsBefore = await itemCount();
      const { events, onRetry } = retryLog();
      for (let n = 1; n <= 10; n++) {
        await newTransaction();
        assert.equal(await run(n, { onRetry, baseDelayMs: 1 }), failingAttempts + 1);
      }
      assert.equal(events.length, 10 * failingAttempts);
      assert.deepEqual(
        events.map((e) => e.attempt),
        Array.from({ length: 10 }, () => [1, 2, 3]).flat(),
      );
      assert.ok(events.every((e) => sqlState(e.error) === '40001'));
      assert.equal(await itemCount(), (itemsBefore ?? 0) + 10);
    });

    test(`${name}: with maxAttempts 2 nothing is written and every call is RETRIES_EXHAUSTED`, async () => {
      const itemsBefore = await itemCount();
      for (let n = 1; n <= 5; n++) {
        await newTransaction();
        await assert.rejects(run(n, { maxAttempts: 2, baseDelayMs: 1 }), (error) => {
          assert.ok(error instanceof RetriesExhaustedError);
          assert.equal(error.code, 'RETRIES_EXHAUSTED');
          assert.equal(error.attempts, 2);
          assert.equal(sqlState(error.cause), '40001');
          return true;
        });
      }
      assert.equal(await itemCount(), itemsBefore);
    });
  }

  for (const [label, flavor, isolation] of [
    ['pg, one prepared statement', 'pg', 'read committed'],
    ['pg, BEGIN...COMMIT batch', 'pg', undefined],
    ['orm', 'orm', 'read committed'],
  ] as const) {
    test(`bank (${label}): each transfer commits on attempt 4, 3 retries each, balances exact`, async () => {
      const pool = createPool(db.url, { max: 2, ...(isolation ? { statementIsolation: isolation } : {}) });
      const { events, onRetry } = retryLog();
      const bank: Bank = await loadBank(pool, flavor, { onRetry });
      try {
        const a = await bank.createAccount({ balance: 1000n });
        const b = await bank.createAccount();
        await db.pool.query(
          'CREATE TRIGGER fail_first_attempts BEFORE INSERT ON roachbank.transfers FOR EACH ROW EXECUTE FUNCTION fail_first_attempts()',
        );
        for (let i = 0; i < 5; i++) {
          await newTransaction();
          const outcome = await bank.transfer({ fromId: a.id, toId: b.id, amount: 10n });
          assert.equal(outcome.replayed, false);
        }
        assert.equal(events.length, 5 * failingAttempts);
        assert.deepEqual(await bank.balances([a.id, b.id]), [950n, 50n]);
        assert.equal((await bank.history(b.id)).items.length, 5);
      } finally {
        await db.pool.query('DROP TRIGGER IF EXISTS fail_first_attempts ON roachbank.transfers');
        await pool.end();
      }
    });
  }
});
