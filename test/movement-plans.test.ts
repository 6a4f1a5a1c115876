// The statements that move money are planned once per connection (`planOnceSql`), often
// on a young book, and keep that plan while the book grows. Each must still touch only
// the rows its movements name: here the plans are made on a young book, the book then
// grows past them (without the statistics that would make PostgreSQL plan again),
// and every table read of each plan, run, reads a handful of rows (a key looked up by
// a few nodes each), never a table's thousands.
import assert from 'node:assert/strict';
import { randomUUID as newId } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { moveBatchSql, movePlainBatchSql, moveSql } from '../packages/roachbank/src/bank/movement-statements.js';
import { planOnceSql } from '../packages/roachbank/src/bank/run-movement-statement.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** Rows each table read of an executed plan went through (kept or filtered out), summed over its loops. */
function rowsRead(plan: Record<string, unknown>, into = new Map<string, number>()): Map<string, number> {
  const relation = plan['Relation Name'];
  if (typeof relation === 'string') {
    const each =
      Number(plan['Actual Rows'] ?? 0) +
      Number(plan['Rows Removed by Filter'] ?? 0) +
      Number(plan['Rows Removed by Index Recheck'] ?? 0);
    into.set(relation, (into.get(relation) ?? 0) + each * Number(plan['Actual Loops'] ?? 1));
  }
  for (const child of (plan.Plans as Record<string, unknown>[] | undefined) ?? []) rowsRead(child, into);
  return into;
}

/** `n` references or metadata, all none: what a batch without them sends. */
const texts = (n: number) => `ARRAY[${Array.from({ length: n }, () => 'NULL').join(', ')}]::TEXT[]`;
const uuids = (values: readonly (string | null)[]) => `ARRAY[${values.map((v) => (v ? `'${v}'` : 'NULL')).join(', ')}]::UUID[]`;

describe('movement plans on a grown book', () => {
  let db: TestDatabase;
  let client: pg.PoolClient;
  /** Each account gets `times` more deposits and settled holds; `900 × times` deposits are reversed in full. */
  const grow = async (times: number) => {
    await db.pool.query(`INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency)
      SELECT gen_random_uuid(), 'deposit', NULL, id, 1, 'XXX' FROM roachbank.accounts, generate_series(1, ${times})`);
    await db.pool.query(`INSERT INTO roachbank.holds (id, from_id, to_id, amount, status, expires_at, settled_at)
      SELECT gen_random_uuid(), id, NULL, 1, 'voided', now(), now() FROM roachbank.accounts, generate_series(1, ${times})`);
    await db.pool.query(`INSERT INTO roachbank.reversed_amounts (transfer_id, original, reversed)
      SELECT id, 1, 1 FROM roachbank.transfers WHERE NOT EXISTS (SELECT 1 FROM roachbank.reversed_amounts WHERE transfer_id = id) LIMIT ${900 * times}`);
  };
  before(async () => {
    db = await createTestDatabase('movement_plans');
    await ensureSchema(db.pool);
    for (const table of ['accounts', 'transfers', 'holds', 'reversed_amounts']) {
      await db.pool.query(`ALTER TABLE roachbank.${table} SET (autovacuum_enabled = false)`);
    }
    // A young book with its statistics: 1,000 accounts, one deposit each, 1,000 settled
    // holds, 900 reversed totals. The plans are made on it, at their first run.
    await db.pool.query(
      `INSERT INTO roachbank.accounts (id, balance) SELECT gen_random_uuid(), 10 FROM generate_series(1, 1000)`,
    );
    await grow(1);
    await db.pool.query('ANALYZE');
    client = await db.pool.connect();
    await client.query(planOnceSql);
    await client.query(`PREPARE batch AS ${moveBatchSql}`);
    await client.query(`PREPARE single AS ${moveSql}`);
    await client.query(`PREPARE plain AS ${movePlainBatchSql}`);
    const [a, b] = (await client.query<{ id: string }>('SELECT id FROM roachbank.accounts LIMIT 2')).rows.map((r) => r.id);
    await client.query(
      `EXECUTE batch(${uuids([newId()])}, ${uuids([a!])}, ${uuids([b!])}, ARRAY[1]::INT8[], ARRAY['transfer'], ${uuids([null])}, ARRAY[NULL]::INT8[], ${texts(1)}, ${texts(1)})`,
    );
    await client.query(`EXECUTE single('${newId()}', '${b}', '${a}', 1, 2, 'transfer', NULL, NULL)`);
    await client.query(
      `EXECUTE plain(${uuids([newId()])}, ${uuids([a!])}, ${uuids([b!])}, ARRAY[1]::INT8[], ARRAY['transfer'], ${texts(1)}, ${texts(1)})`,
    );
    // Then it grows 30 times over before the next statistics (PostgreSQL plans a prepared
    // statement again only when they change: docs, PREPARE).
    await grow(29);
  });
  after(async () => {
    client.release();
    await db.drop();
  });

  const explain = async (execute: string) => {
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: Record<string, unknown> }[] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${execute}`,
    );
    return Object.fromEntries(rowsRead(rows[0]!['QUERY PLAN'][0]!.Plan));
  };

  test('a batch of transfers and a reversal reads only the rows it names', async () => {
    const accounts = (await client.query<{ id: string }>('SELECT id FROM roachbank.accounts ORDER BY id LIMIT 6')).rows.map(
      (r) => r.id,
    );
    const [original] = (
      await client.query<{ id: string; to_id: string }>(
        'SELECT t.id, t.to_id FROM roachbank.transfers t LEFT JOIN roachbank.reversed_amounts r ON r.transfer_id = t.id WHERE r.transfer_id IS NULL LIMIT 1',
      )
    ).rows;
    const from = [accounts[0]!, accounts[1]!, original!.to_id];
    const to = [accounts[2]!, accounts[3]!, null];
    const read = await explain(
      `EXECUTE batch(${uuids([newId(), newId(), newId()])}, ${uuids(from)}, ${uuids(to)}, ARRAY[1, 2, 1]::INT8[],
        ARRAY['transfer', 'transfer', 'reversal'], ${uuids([null, null, original!.id])}, ARRAY[NULL, NULL, NULL]::INT8[],
        ${texts(3)}, ${texts(3)})`,
    );
    for (const [table, rows] of Object.entries(read))
      assert.ok(rows < 100, `${table}: ${rows} rows read (${JSON.stringify(read)})`);
    assert.ok(read.accounts !== undefined && read.transfers !== undefined, JSON.stringify(read));
  });

  test('a plain batch reads only the rows it names', async () => {
    const accounts = (
      await client.query<{ id: string }>('SELECT id FROM roachbank.accounts ORDER BY id LIMIT 4 OFFSET 10')
    ).rows.map((r) => r.id);
    const read = await explain(
      `EXECUTE plain(${uuids([newId(), newId()])}, ${uuids([accounts[0]!, accounts[1]!])}, ${uuids([accounts[2]!, accounts[3]!])},
        ARRAY[1, 2]::INT8[], ARRAY['transfer', 'transfer'], ${texts(2)}, ${texts(2)})`,
    );
    for (const [table, rows] of Object.entries(read))
      assert.ok(rows < 100, `${table}: ${rows} rows read (${JSON.stringify(read)})`);
    assert.ok(read.accounts !== undefined && read.transfers !== undefined, JSON.stringify(read));
  });

  test('a lone transfer reads only the rows it names', async () => {
    const [a, b] = (await client.query<{ id: string }>('SELECT id FROM roachbank.accounts ORDER BY id DESC LIMIT 2')).rows;
    const read = await explain(`EXECUTE single('${newId()}', '${a!.id}', '${b!.id}', 1, 2, 'transfer', NULL, NULL)`);
    for (const [table, rows] of Object.entries(read))
      assert.ok(rows < 100, `${table}: ${rows} rows read (${JSON.stringify(read)})`);
    assert.ok(read.accounts !== undefined, JSON.stringify(read));
  });
});
