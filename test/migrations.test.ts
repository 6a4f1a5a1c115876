import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { loadMigrations, migrate, migrationStatus, splitStatements } from '../packages/roachbank/src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('migrate');
});
after(() => db.drop());

async function columns(table: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    `SELECT column_name || ' ' || data_type || ' ' || is_nullable AS c FROM information_schema.columns
     WHERE table_schema = 'roachbank' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => r.c);
}

describe('migrations', () => {
  test('the status of a fresh database is all pending', async () => {
    const states = await migrationStatus(db.pool);
    assert.ok(states.length >= 1);
    assert.ok(states.every((s) => s.state === 'pending'));
  });

  test('apply in order once, then nothing; the product schema keeps the contract names', async () => {
    const versions = (await loadMigrations()).map((m) => m.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
    );
    assert.deepEqual(await migrate(db.pool), versions);
    assert.deepEqual(await migrate(db.pool), []);
    assert.ok((await migrationStatus(db.pool)).every((s) => s.state === 'applied' && s.appliedAt instanceof Date));
    assert.deepEqual(await columns('accounts'), [
      'id uuid NO',
      'balance bigint NO',
      'created_at timestamp with time zone NO',
      'closed_at timestamp with time zone YES',
      'held bigint NO',
      'currency text NO',
      'credit_limit bigint NO',
      'reference text YES',
      'metadata text YES',
      'sequence bigint YES',
      'moved_at timestamp with time zone YES',
    ]);
    assert.deepEqual(await columns('transfers'), [
      'id uuid NO',
      'from_id uuid YES',
      'to_id uuid YES',
      'amount bigint NO',
      'created_at timestamp with time zone NO',
      'kind text NO',
      'hold_id uuid YES',
      'reversal_of uuid YES',
      'currency text NO',
      'reference text YES',
      'metadata text YES',
      'from_sequence bigint YES',
      'from_balance_after bigint YES',
      'to_sequence bigint YES',
      'to_balance_after bigint YES',
    ]);
    assert.deepEqual(await columns('holds'), [
      'id uuid NO',
      'from_id uuid NO',
      'to_id uuid YES',
      'amount bigint NO',
      'status text NO',
      'created_at timestamp with time zone NO',
      'expires_at timestamp with time zone YES',
      'settled_at timestamp with time zone YES',
      'transfer_id uuid YES',
      'posted_amount bigint YES',
      'reference text YES',
      'metadata text YES',
    ]);
    assert.deepEqual(await columns('reversed_amounts'), ['transfer_id uuid NO', 'original bigint NO', 'reversed bigint NO']);
    await assert.rejects(db.pool.query('INSERT INTO roachbank.accounts (balance) VALUES (-1)'), { code: '23514' });
    // A credit limit lowers the floor, and only that far; a currency is a code.
    await db.pool.query('INSERT INTO roachbank.accounts (balance, credit_limit) VALUES (-5, 5)');
    await assert.rejects(db.pool.query('INSERT INTO roachbank.accounts (balance, credit_limit) VALUES (-6, 5)'), {
      code: '23514',
      constraint: 'accounts_balance_floor_check',
    });
    await assert.rejects(db.pool.query('INSERT INTO roachbank.accounts (balance, credit_limit) VALUES (0, -1)'), {
      code: '23514',
    });
    await assert.rejects(db.pool.query("INSERT INTO roachbank.accounts (balance, currency) VALUES (0, 'usd')"), {
      code: '23514',
    });
    await assert.rejects(
      db.pool.query(
        "INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount) VALUES (gen_random_uuid(), 'deposit', NULL, NULL, 1)",
      ),
      { code: '23502' },
      'a journal row names its currency: there is no default',
    );
    await assert.rejects(db.pool.query('INSERT INTO roachbank.accounts (balance, held) VALUES (0, -1)'), { code: '23514' });
    await assert.rejects(db.pool.query('INSERT INTO roachbank.reversed_amounts VALUES (gen_random_uuid(), 5, 6)'), {
      code: '23514',
      constraint: 'reversed_amounts_within_original',
    });
  });

  test('six processes migrating one fresh database at once: each version applied exactly once', async () => {
    const fresh = await createTestDatabase('migrate_race');
    const pools = Array.from({ length: 6 }, () => createPool(fresh.url, { max: 2 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      const versions = (await loadMigrations()).map((m) => m.version);
      assert.deepEqual(
        results.flat().sort((x, y) => x - y),
        versions,
        'every version applied by exactly one of them',
      );
      const { rows } = await fresh.pool.query(
        'SELECT count(*)::int AS n FROM roachbank.schema_migrations WHERE applied_at IS NOT NULL',
      );
      assert.equal(rows[0].n, versions.length);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
      await fresh.drop();
    }
  });

  test('a version claimed the old way (a row without applied_at, no lease) is pending, and the next run finishes it', async () => {
    const fresh = await createTestDatabase('migrate_orphan');
    try {
      await fresh.pool.query('CREATE SCHEMA roachbank');
      await fresh.pool.query(
        'CREATE TABLE roachbank.schema_migrations (version INT8 PRIMARY KEY, name TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_at TIMESTAMPTZ)',
      );
      await fresh.pool.query("INSERT INTO roachbank.schema_migrations (version, name) VALUES (1, 'product_schema')");
      assert.equal((await migrationStatus(fresh.pool))[0]?.state, 'pending');
      await migrate(fresh.pool);
      assert.equal((await migrationStatus(fresh.pool))[0]?.state, 'applied');
      await fresh.pool.query('SELECT id FROM roachbank.accounts LIMIT 1');
    } finally {
      await fresh.drop();
    }
  });

  test('a pool of one connection migrates (the lease is renewed on a connection of its own)', async () => {
    const fresh = await createTestDatabase('migrate_one');
    const pool = createPool(fresh.url, { max: 1 });
    try {
      assert.deepEqual(
        await migrate(pool),
        (await loadMigrations()).map((m) => m.version),
      );
    } finally {
      await pool.end();
      await fresh.drop();
    }
  });

  test('splitStatements: comments dropped, one statement per trailing semicolon, unterminated rejected', () => {
    assert.deepEqual(splitStatements('-- note\nCREATE TABLE a (\n  x INT -- inline\n);\n\nCREATE INDEX i ON a (x);\n'), [
      'CREATE TABLE a (\n  x INT -- inline\n)',
      'CREATE INDEX i ON a (x)',
    ]);
    assert.throws(() => splitStatements('CREATE TABLE a (x INT)'), /ends without ';'/);
  });
});
