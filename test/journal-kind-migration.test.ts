// Migration 0004 on a journal written before it: every row gets the kind its sides
// imply, in batches (the backfill statement repeats until it changes no row), and
// from then on the column is required and checked.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PgBank } from '../packages/roachbank/src/bank/pg-bank.js';
import { loadMigrations, migrate } from '../packages/roachbank/src/db/migrate.js';
import { repeatedStatements, repeatMarker } from '../packages/roachbank/src/db/migration-files.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const migrationsDir = fileURLToPath(new URL('../packages/roachbank/migrations/', import.meta.url));
let db: TestDatabase;
let before0004: string;
before(async () => {
  db = await createTestDatabase('journal_kind');
  before0004 = await mkdtemp(join(tmpdir(), 'roachbank-migrations-'));
  for (const file of await readdir(migrationsDir)) {
    if (Number(file.slice(0, 4)) < 4) await copyFile(join(migrationsDir, file), join(before0004, file));
  }
});
after(async () => {
  await db.drop();
  await rm(before0004, { recursive: true, force: true });
});

describe('migration 0004: the journal names each row’s kind', () => {
  test('the backfill is the one repeated statement of 0004, for each engine', async () => {
    for (const engine of ['postgresql', 'cockroachdb'] as const) {
      const migration = (await loadMigrations(undefined, engine)).find((m) => m.version === 4)!;
      assert.equal(migration.repeat.length, 1);
      assert.match(migration.statements[migration.repeat[0]!]!, /^UPDATE roachbank\.transfers\s+SET kind = .* LIMIT 10000\)$/s);
    }
    assert.deepEqual(repeatedStatements(`SELECT 1;\n${repeatMarker}\nUPDATE t\nSET a = 1;\nSELECT 2;\n`), [1]);
  });

  test('25,000 rows written before it get the kind their sides imply; afterwards kind is required', async () => {
    assert.deepEqual(await migrate(db.pool, { dir: before0004 }), [1, 2, 3]);
    const [a, b] = ['a', 'b'].map(() => crypto.randomUUID());
    await db.pool.query('INSERT INTO roachbank.accounts (id, balance) VALUES ($1, 0), ($2, 0)', [a, b]);
    // Deposits to a, transfers a → b, withdrawals from b.
    await db.pool.query(
      `INSERT INTO roachbank.transfers (id, from_id, to_id, amount)
       SELECT gen_random_uuid(),
         CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN $1::UUID ELSE $2::UUID END,
         CASE i % 3 WHEN 0 THEN $1::UUID WHEN 1 THEN $2::UUID ELSE NULL END,
         1
       FROM generate_series(0, 24999) AS i`,
      [a, b],
    );
    // 8,334 deposits to a, 8,333 transfers out of it: a holds 1, b holds 0.
    await db.pool.query('UPDATE roachbank.accounts SET balance = 1 WHERE id = $1', [a]);

    assert.deepEqual(await migrate(db.pool), [4, 5, 6, 7, 8, 9, 10]);
    const { rows } = await db.pool.query<{ kind: string | null; sides: string; n: string }>(
      `SELECT kind, (from_id IS NOT NULL)::TEXT || '/' || (to_id IS NOT NULL)::TEXT AS sides, count(*) AS n
       FROM roachbank.transfers GROUP BY 1, 2 ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => [r.kind, r.sides, Number(r.n)]),
      [
        ['deposit', 'false/true', 8334],
        ['transfer', 'true/true', 8333],
        ['withdrawal', 'true/false', 8333],
      ],
    );
    const report = await new PgBank(db.pool).verify();
    assert.equal(report.malformedTransfers, 0);
    assert.ok(report.ok, 'every balance still equals its journal');

    await assert.rejects(
      db.pool.query('INSERT INTO roachbank.transfers (id, from_id, to_id, amount) VALUES ($1, NULL, $2, 1)', [
        crypto.randomUUID(),
        a,
      ]),
      { code: '23502' },
      'a row without a kind is refused',
    );
    await assert.rejects(
      db.pool.query(
        `INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency) VALUES ($1, 'gift', NULL, $2, 1, 'XXX')`,
        [crypto.randomUUID(), a],
      ),
      { code: '23514' },
      'a kind outside the list is refused',
    );
    assert.deepEqual(await migrate(db.pool), [], 'applied once');
  });

  test('verify counts a row whose kind its sides contradict as malformed', async () => {
    const fresh = await createTestDatabase('journal_kind_verify');
    try {
      await migrate(fresh.pool);
      const bank = new PgBank(fresh.pool);
      const a = await bank.createAccount({ balance: 10n });
      const b = await bank.createAccount();
      const { transfer } = await bank.transfer({ fromId: a.id, toId: b.id, amount: 4n });
      assert.equal(transfer.kind, 'transfer');
      assert.equal((await bank.verify()).malformedTransfers, 0);
      await fresh.pool.query(`UPDATE roachbank.transfers SET kind = 'withdrawal' WHERE id = $1`, [transfer.id]);
      const report = await bank.verify();
      assert.deepEqual([report.ok, report.malformedTransfers], [false, 1]);
    } finally {
      await fresh.drop();
    }
  });
});
