import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { bigint, integer, pgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { runOrmTransaction } from '../packages/roachbank/src/orm/run-orm-transaction.js';
import { sqlState } from '../packages/roachbank/src/txn/classify-error.js';
import { RetriesExhaustedError } from '../packages/roachbank/src/txn/retries-exhausted-error.js';
import { TransactionAbortedError } from '../packages/roachbank/src/txn/transaction-aborted-error.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const counter = pgTable('counter', { id: integer('id').primaryKey(), n: bigint('n', { mode: 'bigint' }).notNull() });
const force40001 = sql.raw("DO $$ BEGIN RAISE EXCEPTION 'forced serialization failure' USING ERRCODE = '40001'; END $$");

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('orm', { max: 10 });
  await db.pool.query('CREATE TABLE counter (id INT PRIMARY KEY, n INT8 NOT NULL)');
});
after(() => db.drop());

async function count(): Promise<string> {
  return (await db.pool.query('SELECT n FROM counter WHERE id = 1')).rows[0].n;
}

describe('runOrmTransaction: Drizzle on the retry core', () => {
  test('re-runs the callback on real 40001s: 8 concurrent ORM read-modify-write workers keep a counter exact', async () => {
    await db.pool.query('INSERT INTO counter VALUES (1, 0)');
    let retries = 0;
    const increment = () =>
      runOrmTransaction(
        db.pool,
        async (tx) => {
          const [row] = await tx.select().from(counter).where(eq(counter.id, 1));
          await sleep(1);
          await tx
            .update(counter)
            .set({ n: row!.n + 1n })
            .where(eq(counter.id, 1));
        },
        { maxAttempts: 200, baseDelayMs: 1, maxDelayMs: 20, onRetry: () => retries++ },
      );
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 10; i++) await increment();
      }),
    );
    assert.equal(await count(), '80');
    assert.ok(retries > 0);
  });

  test('classifies ORM-wrapped errors by their SQLSTATE', async () => {
    const seen: unknown[] = [];
    const attempt = await runOrmTransaction(
      db.pool,
      async (tx, attempt) => {
        if (attempt === 1) await tx.execute(force40001);
        return attempt;
      },
      { onRetry: (e) => seen.push(e.error) },
    );
    assert.equal(attempt, 2);
    assert.equal(seen.length, 1);
    assert.ok(!(seen[0] instanceof pg.DatabaseError), 'the error the core saw is the ORM’s wrapper');
    assert.equal(sqlState(seen[0]), '40001');
  });

  test('does not retry application errors: the same object comes back and nothing is written', async () => {
    const refusal = new Error('not today');
    let calls = 0;
    await assert.rejects(
      runOrmTransaction(db.pool, async (tx) => {
        calls++;
        await tx.update(counter).set({ n: 999n }).where(eq(counter.id, 1));
        throw refusal;
      }),
      (error) => error === refusal,
    );
    assert.equal(calls, 1);
    assert.equal(await count(), '80');
  });

  test('exhausts with RetriesExhaustedError and the ORM error as cause', async () => {
    await assert.rejects(
      runOrmTransaction(db.pool, (tx) => tx.execute(force40001), { maxAttempts: 2, baseDelayMs: 1 }),
      (error) => error instanceof RetriesExhaustedError && error.attempts === 2 && sqlState(error.cause) === '40001',
    );
  });

  test('an ORM statement error the callback swallowed still fails the transaction', async () => {
    await assert.rejects(
      runOrmTransaction(db.pool, async (tx) => {
        await tx.update(counter).set({ n: 1n }).where(eq(counter.id, 1));
        await tx
          .insert(counter)
          .values({ id: 1, n: 0n })
          .catch(() => {});
      }),
      (error) => error instanceof TransactionAbortedError && sqlState(error) === '23505',
    );
    assert.equal(await count(), '80');
  });
});
