// Migrations 0006 to 0010 on a book written before them: every account and journal row
// reads as `XXX` (no currency) with no credit line, the floor CHECK replaces `balance >= 0`
// validated, the reference indexes are built valid, every account's rows are numbered with
// their running balances, no table is rewritten (its file stays the same), and verify passes.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PgBank } from '../packages/roachbank/src/bank/pg-bank.js';
import { type BackfillProgress, migrate } from '../packages/roachbank/src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const migrationsDir = fileURLToPath(new URL('../packages/roachbank/migrations/', import.meta.url));
let db: TestDatabase;
let before0006: string;
before(async () => {
  db = await createTestDatabase('currency_migration');
  before0006 = await mkdtemp(join(tmpdir(), 'roachbank-migrations-'));
  for (const file of await readdir(migrationsDir)) {
    if (Number(file.slice(0, 4)) < 6) await copyFile(join(migrationsDir, file), join(before0006, file));
  }
});
after(async () => {
  await db.drop();
  await rm(before0006, { recursive: true, force: true });
});

describe('migration 0006: currencies and credit limits on a book from before', () => {
  test('old rows read as XXX without credit, nothing is rewritten, and the new rules hold', async () => {
    assert.deepEqual(await migrate(db.pool, { dir: before0006 }), [1, 2, 3, 4, 5]);
    // A book of today's schema: 1,000 accounts with 10 deposits each, a transfer ring, a pending hold.
    await db.pool.query(
      'INSERT INTO roachbank.accounts (id, balance) SELECT gen_random_uuid(), 10 FROM generate_series(1, 1000)',
    );
    await db.pool.query(`INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount)
      SELECT gen_random_uuid(), 'deposit', NULL, id, 1 FROM roachbank.accounts, generate_series(1, 10)`);
    const [a, b] = (await db.pool.query<{ id: string }>('SELECT id FROM roachbank.accounts ORDER BY id LIMIT 2')).rows.map(
      (r) => r.id,
    );
    await db.pool.query(
      `INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount) VALUES
      (gen_random_uuid(), 'transfer', $1, $2, 4), (gen_random_uuid(), 'transfer', $2, $1, 4)`,
      [a, b],
    );
    await db.pool.query(
      "INSERT INTO roachbank.holds (id, from_id, to_id, amount, status) VALUES (gen_random_uuid(), $1, NULL, 3, 'pending')",
      [a],
    );
    await db.pool.query('UPDATE roachbank.accounts SET held = 3 WHERE id = $1', [a]);
    const files = async () =>
      (
        await db.pool.query<{ relname: string; relfilenode: string }>(
          `SELECT relname, relfilenode::TEXT FROM pg_class WHERE relnamespace = 'roachbank'::regnamespace
           AND relname IN ('accounts', 'transfers') ORDER BY relname`,
        )
      ).rows;
    const filesBefore = await files();
    // A concurrent build cut half-way leaves an invalid index under the name 0007 builds;
    // IF NOT EXISTS alone would keep it. A unique build over duplicates fails the same way.
    await assert.rejects(
      db.pool.query('CREATE UNIQUE INDEX CONCURRENTLY transfers_reference_idx ON roachbank.transfers (amount)'),
      { code: '23505' },
    );

    const progress: BackfillProgress[] = [];
    assert.deepEqual(await migrate(db.pool, { onProgress: (p) => progress.push(p) }), [6, 7, 8, 9, 10]);
    // 0008's back-fill told how far it got after each of its runs: 100 accounts a run, then one that found none.
    const numbering = progress.filter((p) => p.version === 8);
    assert.deepEqual(
      numbering.map((p) => [p.runs, p.rows, p.done]),
      Array.from({ length: 11 }, (_, i) => [i + 1, Math.min(1000, (i + 1) * 100), i === 10]),
    );
    assert.deepEqual(await files(), filesBefore, 'no table was rewritten');
    const { rows } = await db.pool.query<{ currencies: string[]; limits: string[]; journal: string[] }>(`SELECT
      (SELECT array_agg(DISTINCT currency) FROM roachbank.accounts) AS currencies,
      (SELECT array_agg(DISTINCT credit_limit::TEXT) FROM roachbank.accounts) AS limits,
      (SELECT array_agg(DISTINCT currency) FROM roachbank.transfers) AS journal`);
    assert.deepEqual(rows[0], { currencies: ['XXX'], limits: ['0'], journal: ['XXX'] });
    const constraints = await db.pool.query<{ conname: string; convalidated: boolean }>(
      `SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'roachbank.accounts'::regclass AND contype = 'c' ORDER BY conname`,
    );
    assert.deepEqual(
      constraints.rows.map((c) => [c.conname, c.convalidated]),
      [
        ['accounts_balance_floor_check', true],
        ['accounts_credit_limit_check', true],
        ['accounts_currency_check', true],
        ['accounts_held_check', true],
        ['accounts_metadata_check', true],
        ['accounts_reference_check', true],
      ],
      'the old balance >= 0 is gone, every new CHECK validated',
    );
    // 0007's look-up indexes, built CONCURRENTLY: valid, partial, and holding no row yet.
    const indexes = await db.pool.query<{ relname: string; valid: boolean; partial: boolean }>(
      `SELECT index.relname, pg_index.indisvalid AS valid, pg_index.indpred IS NOT NULL AS partial
       FROM pg_index JOIN pg_class AS index ON index.oid = pg_index.indexrelid
       WHERE index.relname LIKE '%reference_idx' ORDER BY index.relname`,
    );
    assert.deepEqual(
      indexes.rows.map((i) => [i.relname, i.valid, i.partial]),
      [
        ['accounts_reference_idx', true, true],
        ['holds_reference_idx', true, true],
        ['transfers_reference_idx', true, true],
      ],
    );

    const bank = new PgBank(db.pool);
    const report = await bank.verify();
    assert.ok(report.ok, 'every balance still equals its journal');
    // 0008 numbered every account's rows (1,000 accounts: ten statements of 100) and 0009
    // dropped the index that found the ones still to do.
    assert.equal(report.brokenChainCount, 0);
    const unnumbered = await db.pool.query('SELECT count(*)::INT AS n FROM roachbank.accounts WHERE sequence IS NULL');
    assert.equal(unnumbered.rows[0].n, 0);
    assert.equal((await db.pool.query("SELECT 1 FROM pg_class WHERE relname = 'accounts_chain_backfill_idx'")).rowCount, 0);
    assert.deepEqual(
      (await bank.history(a!, { limit: 1 })).items.map((row) => row.fromSequence ?? row.toSequence),
      [12],
    );
    // 0010 swapped the account indexes for chain-order ones, and the old book has statements.
    const chainIndexes = await db.pool.query(
      `SELECT relname, indisvalid AS valid FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid
       WHERE relname LIKE 'transfers\\_%\\_account\\_idx' OR relname LIKE 'transfers\\_%\\_chain\\_idx' ORDER BY relname`,
    );
    assert.deepEqual(
      chainIndexes.rows.map((i) => [i.relname, i.valid]),
      [
        ['transfers_from_chain_idx', true],
        ['transfers_to_chain_idx', true],
      ],
    );
    const statement = await bank.statement(a!, {
      from: '2000-01-01T00:00:00Z',
      to: '2999-01-01T00:00:00Z',
      page: { limit: 1000 },
    });
    assert.deepEqual([statement.opening.balance, statement.movements, statement.lines.items.length], [0n, 12, 12]);
    assert.equal(statement.closing.balance, (await bank.getAccount(a!)).balance);
    assert.equal((await bank.balanceAt(a!, new Date())).balance, statement.closing.balance);
    assert.deepEqual(
      report.currencies.map((c) => [c.currency, c.accounts, c.totalBalance]),
      [['XXX', 1000, 10_000n]],
    );
    // The old book takes the new rules: a credit line below 0, and a movement in its currency.
    await bank.setCreditLimit(a!, 5n);
    await bank.withdraw(a!, 12n);
    assert.deepEqual([(await bank.getAccount(a!)).balance, (await bank.getAccount(a!)).available], [-2n, -5n]);
    assert.ok((await bank.verify()).ok);
    assert.deepEqual(await migrate(db.pool), [], 'applied once');
  });
});
