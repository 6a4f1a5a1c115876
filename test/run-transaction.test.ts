import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { AmbiguousCommitError } from '../packages/roachbank/src/txn/ambiguous-commit-error.js';
import { backoffDelay } from '../packages/roachbank/src/txn/backoff.js';
import { classifyError, sqlState } from '../packages/roachbank/src/txn/classify-error.js';
import { RetriesExhaustedError } from '../packages/roachbank/src/txn/retries-exhausted-error.js';
import { type RetryEvent, runSingleStatement, runTransaction } from '../packages/roachbank/src/txn/run-transaction.js';
import { TransactionAbortedError } from '../packages/roachbank/src/txn/transaction-aborted-error.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startWireProxy } from './support/wire-proxy.js';

// A real 40001 raised by the server, for the cases where waiting for a natural one would be slow.
const force40001 = "DO $$ BEGIN RAISE EXCEPTION 'forced serialization failure' USING ERRCODE = '40001'; END $$";

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let db: TestDatabase;
let pool: pg.Pool;

async function items(): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM items ORDER BY id');
  return rows.map((r) => r.id);
}

async function idleInTransaction(): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
  );
  return rows[0]?.n ?? -1;
}

before(async () => {
  db = await createTestDatabase('txn', { max: 12 });
  pool = db.pool;
  await pool.query('CREATE TABLE items (id INT PRIMARY KEY)');
  await pool.query('CREATE TABLE counter (id INT PRIMARY KEY, n INT8 NOT NULL)');
  await pool.query('CREATE TABLE pair (id INT PRIMARY KEY, v INT NOT NULL)');
});
after(async () => {
  assert.equal(await idleInTransaction(), 0, 'no connection may be left idle in transaction');
  await db.drop();
});

describe('runTransaction on real serialization failures', () => {
  test('keeps a counter exact under 8 concurrent read-modify-write workers, retrying real 40001s', async () => {
    await pool.query('INSERT INTO counter VALUES (1, 0)');
    const retryCodes: Array<string | undefined> = [];
    const increment = () =>
      runTransaction(
        pool,
        async (client) => {
          const { rows } = await client.query<{ n: string }>('SELECT n FROM counter WHERE id = 1');
          await sleep(1); // widen the window between read and write
          await client.query('UPDATE counter SET n = $1 WHERE id = 1', [BigInt(rows[0]!.n) + 1n]);
        },
        { maxAttempts: 200, baseDelayMs: 1, maxDelayMs: 20, onRetry: (e) => retryCodes.push(sqlState(e.error)) },
      );
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 10; i++) await increment();
      }),
    );
    const { rows } = await pool.query<{ n: string }>('SELECT n FROM counter WHERE id = 1');
    assert.equal(rows[0]!.n, '80');
    assert.ok(retryCodes.length > 0, 'concurrent serializable read-modify-write must meet 40001');
    assert.ok(
      retryCodes.every((c) => c === '40001'),
      `only 40001 expected, saw ${[...new Set(retryCodes)].join(',')}`,
    );
  });

  test('retries a real deadlock (40P01) and both transfers land', async () => {
    await pool.query('INSERT INTO pair VALUES (1, 0), (2, 0)');
    const locked = { a: deferred(), b: deferred() };
    const codes: Array<string | undefined> = [];
    const onRetry = (e: RetryEvent) => codes.push(sqlState(e.error));
    const crossing = (first: number, second: number, mine: Deferred, theirs: Deferred) =>
      runTransaction(
        pool,
        async (client, attempt) => {
          await client.query('UPDATE pair SET v = v + 1 WHERE id = $1', [first]);
          if (attempt === 1) {
            mine.resolve();
            await theirs.promise; // both now hold one row and want the other's
          }
          await client.query('UPDATE pair SET v = v + 1 WHERE id = $1', [second]);
        },
        { onRetry, baseDelayMs: 5 },
      );
    await Promise.all([crossing(1, 2, locked.a, locked.b), crossing(2, 1, locked.b, locked.a)]);
    const { rows } = await pool.query<{ v: number }>('SELECT v FROM pair ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.v),
      [2, 2],
    );
    assert.ok(codes.includes('40P01'), `a deadlock must have been retried, saw ${codes.join(',')}`);
    assert.ok(codes.every((c) => c === '40P01' || c === '40001'));
  });
});

describe('runTransaction errors', () => {
  test("propagates the application's own error as the same object, rolled back, without retrying", async () => {
    const boom = new Error('insufficient funds (application check)');
    let calls = 0;
    await assert.rejects(
      runTransaction(pool, async (client) => {
        calls++;
        await client.query('INSERT INTO items VALUES (1)');
        throw boom;
      }),
      (error) => error === boom,
    );
    assert.equal(calls, 1);
    assert.deepEqual(await items(), []);
  });

  test('does not retry a non-retryable database error and rethrows it unchanged', async () => {
    let calls = 0;
    await assert.rejects(
      runTransaction(pool, async (client) => {
        calls++;
        await client.query('SELECT * FROM no_such_table');
      }),
      (error) => sqlState(error) === '42P01' && error instanceof pg.DatabaseError,
    );
    assert.equal(calls, 1);
  });

  test('gives up after maxAttempts with RetriesExhaustedError, nothing written, backoff within bounds', async () => {
    const events: RetryEvent[] = [];
    let calls = 0;
    await assert.rejects(
      runTransaction(
        pool,
        async (client) => {
          calls++;
          await client.query('INSERT INTO items VALUES ($1)', [100 + calls]);
          await client.query(force40001);
        },
        { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 30, onRetry: (e) => events.push(e) },
      ),
      (error) =>
        error instanceof RetriesExhaustedError &&
        error.code === 'RETRIES_EXHAUSTED' &&
        error.attempts === 3 &&
        sqlState(error.cause) === '40001',
    );
    assert.equal(calls, 3);
    assert.deepEqual(
      events.map((e) => e.attempt),
      [1, 2],
    );
    for (const e of events) assert.ok(e.delayMs >= 0 && e.delayMs <= Math.min(30, 5 * 2 ** e.attempt), `delay ${e.delayMs}`);
    assert.deepEqual(await items(), []);
  });

  test('full-jitter backoff stays within [0, min(max, base·2^attempt)] and reaches its cap', () => {
    assert.equal(
      backoffDelay(3, 10, 1000, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(3, 10, 1000, () => 0.999999),
      80,
    );
    assert.equal(
      backoffDelay(30, 10, 1000, () => 0.999999),
      1000,
    );
    for (let attempt = 1; attempt <= 12; attempt++) {
      for (let i = 0; i < 200; i++) {
        const delay = backoffDelay(attempt, 10, 1000);
        assert.ok(delay >= 0 && delay <= Math.min(1000, 10 * 2 ** attempt) && Number.isInteger(delay));
      }
    }
  });

  test('stops at once when the signal aborts, with its reason', async () => {
    const controller = new AbortController();
    const started = Date.now();
    await assert.rejects(
      runTransaction(pool, (client) => client.query(force40001), {
        maxAttempts: 50,
        baseDelayMs: 5000,
        maxDelayMs: 5000,
        signal: controller.signal,
        onRetry: () => controller.abort(new Error('caller gave up')),
      }),
      /caller gave up/,
    );
    assert.ok(Date.now() - started < 4000, 'the backoff sleep must be cut short');
  });

  test('rejects nonsensical options', async () => {
    await assert.rejects(
      runTransaction(pool, async () => 1, { maxAttempts: 0 }),
      RangeError,
    );
    await assert.rejects(
      runTransaction(pool, async () => 1, { isolation: 'chaos' as never }),
      RangeError,
    );
    await assert.rejects(
      runTransaction(pool, async () => 1, { baseDelayMs: -1 }),
      RangeError,
    );
  });

  test('uses SERIALIZABLE unless told otherwise, whatever the server default', async () => {
    const level = (options = {}) =>
      runTransaction(
        pool,
        async (c) => (await c.query("SELECT current_setting('transaction_isolation') AS l")).rows[0].l,
        options,
      );
    assert.equal(await level(), 'serializable');
    assert.equal(await level({ isolation: 'read committed' }), 'read committed');
  });
});

describe('the COMMIT-answered-with-ROLLBACK trap', () => {
  test('a statement error the callback swallowed fails the transaction instead of a silent ROLLBACK', async () => {
    let calls = 0;
    await assert.rejects(
      runTransaction(pool, async (client) => {
        calls++;
        await client.query('INSERT INTO items VALUES (5)');
        await client.query('INSERT INTO items VALUES (5)').catch(() => {}); // duplicate key, swallowed
        return 'looks fine';
      }),
      (error) => error instanceof TransactionAbortedError && sqlState(error) === '23505',
    );
    assert.equal(calls, 1);
    assert.deepEqual(await items(), []);
  });

  test('a swallowed 40001 is still retried', async () => {
    const result = await runTransaction(pool, async (client, attempt) => {
      await client.query('INSERT INTO items VALUES (6)');
      if (attempt === 1) await client.query(force40001).catch(() => {});
      return attempt;
    });
    assert.equal(result, 2);
    assert.deepEqual(await items(), [6]);
    await pool.query('DELETE FROM items');
  });

  test('a callback that ends the transaction itself is an error, and the pool stays clean', async () => {
    await assert.rejects(
      runTransaction(pool, async (client) => {
        await client.query('COMMIT');
      }),
      /ended the transaction itself/,
    );
    await assert.rejects(
      runTransaction(pool, async (client) => {
        client.release();
      }),
      /runTransaction owns this connection/,
    );
    assert.equal(await idleInTransaction(), 0);
  });
});

describe('runTransaction and lost connections', () => {
  let killer: pg.Client;
  before(async () => {
    killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
  });
  after(() => killer.end());

  for (const when of ['during a query', 'while idle between queries'] as const) {
    test(`a backend terminated ${when} is retried on a fresh connection`, async () => {
      const pids: number[] = [];
      const codes: string[] = [];
      await runTransaction(
        pool,
        async (client, attempt) => {
          const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          pids.push(rows[0]!.pid);
          await client.query('INSERT INTO items VALUES (42)');
          if (attempt === 1) {
            await killer.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
            if (when === 'while idle between queries') await sleep(100);
          }
          await client.query('INSERT INTO items VALUES (43)');
        },
        { onRetry: (e) => codes.push(classifyError(e.error)) },
      );
      assert.equal(pids.length, 2);
      assert.notEqual(pids[0], pids[1], 'the retry must run on another connection');
      assert.deepEqual(codes, ['connection']);
      assert.deepEqual(await items(), [42, 43]);
      await pool.query('DELETE FROM items');
    });
  }

  test('a connection cut before COMMIT is retried; nothing is applied twice', async () => {
    const proxy = await startWireProxy(Number(new URL(db.url).port));
    const proxied = createPool(proxy.urlThrough(db.url), { max: 2 });
    let cut = false;
    proxy.setPolicy((m) => {
      if (cut || !m.sql?.startsWith('INSERT')) return 'forward';
      cut = true;
      return 'cut-before';
    });
    let calls = 0;
    await runTransaction(proxied, async (client) => {
      calls++;
      await client.query('INSERT INTO items VALUES (11)');
    });
    assert.equal(calls, 2);
    assert.equal(proxy.cuts.before, 1);
    assert.deepEqual(await items(), [11]);
    await pool.query('DELETE FROM items');
    await proxied.end();
    await proxy.close();
  });

  for (const [verdict, committed] of [
    ['cut-after', true],
    ['cut-before', false],
  ] as const) {
    test(`a connection lost once COMMIT was sent (${verdict}) is AmbiguousCommitError, never retried`, async () => {
      const proxy = await startWireProxy(Number(new URL(db.url).port));
      const proxied = createPool(proxy.urlThrough(db.url), { max: 2 });
      proxy.setPolicy((m) => (m.sql === 'COMMIT' ? verdict : 'forward'));
      let calls = 0;
      await assert.rejects(
        runTransaction(proxied, async (client) => {
          calls++;
          await client.query('INSERT INTO items VALUES (7)');
        }),
        (error) => error instanceof AmbiguousCommitError && error.code === 'AMBIGUOUS_COMMIT' && error.cause !== undefined,
      );
      assert.equal(calls, 1, 'an ambiguous commit must not be retried blindly');
      // The client cannot tell these two apart; the database can.
      assert.deepEqual(await items(), committed ? [7] : []);
      proxy.setPolicy(() => 'forward');
      assert.equal(await runTransaction(proxied, async (c) => (await c.query('SELECT 1 AS one')).rows[0].one), 1);
      await pool.query('DELETE FROM items');
      await proxied.end();
      await proxy.close();
    });
  }
});

describe('the pool after many failures', () => {
  test('1,000 failing transactions leave the pool healthy and no connection idle in transaction', async () => {
    const small = createPool(db.url, { max: 5 });
    const failures = [
      async (c: pg.PoolClient) => {
        await c.query('INSERT INTO items VALUES (1)');
        throw new Error('application error');
      },
      async (c: pg.PoolClient) => c.query('SELEC 1'),
      async (c: pg.PoolClient) => c.query(force40001),
      async (c: pg.PoolClient) => {
        await c.query('INSERT INTO items VALUES (2)');
        await c.query('INSERT INTO items VALUES (2)').catch(() => {});
      },
      async (c: pg.PoolClient) => c.query('SELECT 1/0'),
    ];
    let rejected = 0;
    for (let batch = 0; batch < 50; batch++) {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => runTransaction<unknown>(small, failures[i % failures.length]!, { maxAttempts: 1 })),
      );
      rejected += results.filter((r) => r.status === 'rejected').length;
    }
    assert.equal(rejected, 1000);
    assert.ok(small.totalCount <= 5);
    assert.equal(small.idleCount, small.totalCount);
    assert.equal(small.waitingCount, 0);
    assert.equal(await idleInTransaction(), 0);
    assert.deepEqual(await items(), []);
    await runTransaction(small, (c) => c.query('INSERT INTO items VALUES (3)'));
    assert.deepEqual(await items(), [3]);
    await pool.query('DELETE FROM items');
    await small.end();
  });
});

describe('statement sequences', () => {
  function recordingPool(): { pool: pg.Pool; statements: string[] } {
    const statements: string[] = [];
    const recorded = createPool(db.url, { max: 1 });
    recorded.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        statements.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
        return query(...args);
      };
    });
    return { pool: recorded, statements };
  }

  test('CockroachDB savepoint protocol: BEGIN + SAVEPOINT, ROLLBACK TO SAVEPOINT on 40001, RELEASE, COMMIT, one connection', async () => {
    const { pool: recorded, statements } = recordingPool();
    const pids = new Set<number>();
    await runTransaction(
      recorded,
      async (client, attempt) => {
        pids.add((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
        if (attempt === 1) await client.query(force40001);
        await client.query('INSERT INTO items VALUES (99)');
      },
      { protocol: 'savepoint' },
    );
    assert.deepEqual(statements, [
      'BEGIN ISOLATION LEVEL SERIALIZABLE; SAVEPOINT cockroach_restart',
      'SELECT pg_backend_pid() AS pid',
      force40001,
      'ROLLBACK TO SAVEPOINT cockroach_restart',
      'SELECT pg_backend_pid() AS pid',
      'INSERT INTO items VALUES (99)',
      'RELEASE SAVEPOINT cockroach_restart',
      'COMMIT',
    ]);
    assert.equal(pids.size, 1);
    assert.deepEqual(await items(), [99]);
    await pool.query('DELETE FROM items');
    await recorded.end();
  });

  test('PostgreSQL (auto): the server is asked once, then BEGIN … COMMIT, ROLLBACK and a fresh BEGIN on retry', async () => {
    const { pool: recorded, statements } = recordingPool();
    for (let i = 0; i < 2; i++) {
      await runTransaction(recorded, async (client, attempt) => {
        if (i === 0 && attempt === 1) await client.query(force40001);
        await client.query('SELECT 1');
      });
    }
    assert.deepEqual(statements, [
      'SELECT version() AS version',
      'BEGIN ISOLATION LEVEL SERIALIZABLE',
      force40001,
      'ROLLBACK',
      'BEGIN ISOLATION LEVEL SERIALIZABLE',
      'SELECT 1',
      'COMMIT',
      'BEGIN ISOLATION LEVEL SERIALIZABLE',
      'SELECT 1',
      'COMMIT',
    ]);
    await recorded.end();
  });
});

describe('classifyError', () => {
  test('sorts by SQLSTATE, through wrapping causes, and by socket failures', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(classifyError(withCode('40001')), 'retryable');
    assert.equal(classifyError(withCode('40P01')), 'retryable');
    assert.equal(classifyError(new Error('orm failed', { cause: withCode('40001') })), 'retryable');
    assert.equal(classifyError(withCode('40003')), 'ambiguous');
    assert.equal(classifyError(withCode('57P01')), 'connection');
    assert.equal(classifyError(withCode('08006')), 'connection');
    assert.equal(classifyError(withCode('ECONNRESET')), 'connection');
    assert.equal(classifyError(new Error('Connection terminated unexpectedly')), 'connection');
    // Drizzle's DrizzleQueryError: "Failed query: ..." around the driver's plain Error (found by the fault-injection suite).
    assert.equal(
      classifyError(new Error('Failed query: select 1', { cause: new Error('Connection terminated unexpectedly') })),
      'connection',
    );
    assert.equal(classifyError(withCode('23505')), 'fatal');
    assert.equal(classifyError(withCode('28P01')), 'fatal');
    assert.equal(classifyError(new Error('insufficient funds')), 'fatal');
    assert.equal(classifyError('a string'), 'fatal');
  });
});

describe('runSingleStatement', () => {
  test('retries a statement that failed with 40001, in one round trip per attempt', async () => {
    const attempts: number[] = [];
    await runSingleStatement(pool, async (client, attempt) => {
      attempts.push(attempt);
      return client.query(attempt === 1 ? force40001 : 'INSERT INTO items VALUES (21)');
    });
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(await items(), [21]);
    await pool.query('DELETE FROM items');
  });

  test('a failed BEGIN; …; COMMIT batch never leaves an aborted transaction in the pool', async () => {
    const one = createPool(db.url, { max: 1 });
    for (let i = 0; i < 50; i++) {
      await assert.rejects(
        runSingleStatement(one, (c) => c.query('BEGIN; SELECT 1/0; COMMIT')),
        { code: '22012' },
      );
      const { rows } = await one.query('SELECT 1 AS ok');
      assert.equal(rows[0].ok, 1);
    }
    await one.end();
  });

  test('a connection lost once the statement was sent is AmbiguousCommitError', async () => {
    const proxy = await startWireProxy(Number(new URL(db.url).port));
    const proxied = createPool(proxy.urlThrough(db.url), { max: 1 });
    proxy.setPolicy((m) => (m.sql?.startsWith('INSERT') ? 'cut-after' : 'forward'));
    await assert.rejects(
      runSingleStatement(proxied, (c) => c.query('INSERT INTO items VALUES (22)')),
      (error) => error instanceof AmbiguousCommitError,
    );
    assert.deepEqual(await items(), [22], 'it did commit: only a lookup can tell');
    await pool.query('DELETE FROM items');
    await proxied.end();
    await proxy.close();
  });
});
