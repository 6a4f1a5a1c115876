// CockroachDB's commit, as CockroachDB means it, through runTransaction and every
// data layer's adapter: under the savepoint protocol RELEASE SAVEPOINT
// cockroach_restart is the commit (cockroach-go, crdb.ExecuteInTx). The double in
// test/support/cockroach-double.ts makes PostgreSQL answer as CockroachDB and
// commit at RELEASE, then fails RELEASE or the COMMIT after it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { AmbiguousCommitError } from '../packages/roachbank/src/txn/ambiguous-commit-error.js';
import { sqlState } from '../packages/roachbank/src/txn/classify-error.js';
import { type RetryEvent, runTransaction } from '../packages/roachbank/src/txn/run-transaction.js';
import { type CockroachDouble, type CommitFault, startCockroachDouble } from './support/cockroach-double.js';
import { contractTables, dataLayers, type LayerUnderTest } from './support/data-layers.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** runTransaction on a pg pool, in the shape of the data layers' entries. */
async function driverLayer(url: string): Promise<LayerUnderTest> {
  const pool: pg.Pool = createPool(url, { max: 4 });
  return {
    name: 'runTransaction',
    run: (fn, options) => runTransaction(pool, fn as never, options),
    async insertItem(tx, n) {
      await (tx as pg.PoolClient).query('INSERT INTO items VALUES ($1)', [n]);
    },
    addToBalance: () => Promise.reject(new Error('unused')),
    insertAccount: () => Promise.reject(new Error('unused')),
    close: () => pool.end(),
  };
}

const layers: Record<string, (url: string) => Promise<LayerUnderTest>> = { runTransaction: driverLayer, ...dataLayers };

for (const [name, open] of Object.entries(layers)) {
  describe(`CockroachDB's commit through ${name}`, () => {
    let db: TestDatabase;
    let double: CockroachDouble;
    let layer: LayerUnderTest;
    let n = 0;
    before(async () => {
      db = await createTestDatabase(`crdb_commit_${name.toLowerCase()}`);
      await db.pool.query(contractTables);
      double = await startCockroachDouble(Number(new URL(db.url).port));
      layer = await open(double.urlThrough(db.url));
    });
    after(async () => {
      await layer?.close();
      await double?.close();
      await db?.drop();
    });

    const count = async (value: number) =>
      Number((await db.pool.query('SELECT count(*) AS n FROM items WHERE n = $1', [value])).rows[0].n);

    /** One transaction inserting a fresh item, with `fault` at its commit; its outcome and the item's count. */
    async function attempt(fault: CommitFault | undefined) {
      const value = ++n;
      const retries: RetryEvent[] = [];
      const releases = double.releases;
      double.setFault(fault);
      const outcome = await layer
        .run(
          async (tx, attempt) => {
            await layer.insertItem(tx, value);
            return attempt;
          },
          { baseDelayMs: 1, onRetry: (event) => retries.push(event) },
        )
        .then(
          (attempts) => ({ ok: true as const, attempts }),
          (error: unknown) => ({ ok: false as const, error }),
        );
      return { outcome, written: await count(value), retries, releases: double.releases - releases };
    }

    test('the savepoint protocol is spoken: RELEASE commits, the call succeeds once', async () => {
      const { outcome, written, releases } = await attempt(undefined);
      assert.deepEqual(outcome, { ok: true, attempts: 1 });
      assert.equal(written, 1);
      assert.equal(releases, 1);
    });

    for (const fault of ['error-at-release', 'timeout-at-release'] as const) {
      test(`an error at RELEASE that is not 40001 (${fault}) is AMBIGUOUS_COMMIT: the writes may be in (here they are)`, async () => {
        const { outcome, written, retries } = await attempt(fault);
        assert.ok(!outcome.ok, 'the call must not succeed');
        assert.ok(outcome.error instanceof AmbiguousCommitError, `got ${String(outcome.error)}`);
        assert.equal(sqlState(outcome.error.cause), fault === 'error-at-release' ? 'XX000' : '57014');
        assert.equal(written, 1);
        assert.deepEqual(retries, [], 'never retried blindly');
        // The connection was not pooled in a state nobody knows: the next transaction is clean.
        assert.deepEqual((await attempt(undefined)).outcome, { ok: true, attempts: 1 });
      });
    }

    test('40001 at RELEASE restarts at the savepoint: committed once, on attempt 2', async () => {
      const { outcome, written, retries, releases } = await attempt('40001-at-release');
      assert.deepEqual(outcome, { ok: true, attempts: 2 });
      assert.equal(written, 1);
      assert.equal(retries.length, 1);
      assert.equal(sqlState(retries[0]!.error), '40001');
      assert.equal(releases, 2);
    });

    for (const fault of ['error-at-commit', 'cut-after-release'] as const) {
      test(`after a successful RELEASE the transaction is committed, whatever follows (${fault})`, async () => {
        const { outcome, written } = await attempt(fault);
        assert.deepEqual(outcome, { ok: true, attempts: 1 });
        assert.equal(written, 1);
        assert.deepEqual((await attempt(undefined)).outcome, { ok: true, attempts: 1 });
      });
    }
  });
}
