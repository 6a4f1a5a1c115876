// `verify` reads each table in a bounded number of passes (the journal three times: its
// sums, and each side's chains; every other table once; beyond that it looks the journal
// up only by key: posts and reversals) and still reports exactly what a plain sequential
// reading of the tables says, on a book with every kind of damage it looks for.
import assert from 'node:assert/strict';
import { randomUUID as newId } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { verifySql } from '../packages/roachbank/src/bank/verify-invariants.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { seededRandom } from '../packages/roachbank-app/src/workload/seeded-random.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

describe('verify in one pass', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('verify_pass');
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  test('the plan reads the journal three times and each other table once; the journal beyond that only by key', async () => {
    // A book of 20,000 journal rows, a few of them posts and reversals, with statistics:
    // the plan a real book gets (an empty one is planned as if every table were tiny).
    const pool = db.pool;
    await pool.query(`INSERT INTO roachbank.accounts (id, balance) SELECT gen_random_uuid(), 0 FROM generate_series(1, 200)`);
    await pool.query(`INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency)
      SELECT gen_random_uuid(), 'deposit', NULL, id, 1, 'XXX' FROM roachbank.accounts, generate_series(1, 100)`);
    await pool.query(`INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency, reversal_of)
      SELECT gen_random_uuid(), 'withdrawal', to_id, NULL, 1, 'XXX', id FROM roachbank.transfers LIMIT 3`);
    await pool.query('ANALYZE');
    const { rows } = await db.pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${verifySql}`);
    await pool.query('TRUNCATE roachbank.transfers, roachbank.accounts CASCADE');
    const scans = new Map<string, number>();
    const journalLookups: string[] = [];
    const walk = (node: Record<string, unknown>): void => {
      const relation = node['Relation Name'];
      if (typeof relation === 'string') {
        // A read of the whole journal, or of one side of it, may go through a chain-order
        // index (its order is the chains'); a look-up by key goes through these two.
        const index = node['Index Name'];
        const keyed = relation === 'transfers' && (index === 'transfers_pkey' || index === 'transfers_reversal_of_idx');
        if (keyed) journalLookups.push(index as string);
        else scans.set(relation, (scans.get(relation) ?? 0) + 1);
      }
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk((rows[0]!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    assert.deepEqual(Object.fromEntries(scans), { transfers: 3, accounts: 1, holds: 1, reversed_amounts: 1 });
    assert.deepEqual(journalLookups.sort(), ['transfers_pkey', 'transfers_pkey', 'transfers_reversal_of_idx']);
  });

  test('the report equals a sequential reading of the tables, on a damaged book', async () => {
    const bank = createBank(db.pool, { batch: false });
    const seeded = seededRandom(20261202);
    const random = (n: number) => seeded.int(0, n - 1);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await bank.createAccount({ balance: BigInt(random(500)) })).id);
    for (let i = 0; i < 150; i++) {
      const from = ids[random(ids.length)]!;
      const to = ids[random(ids.length)]!;
      const amount = BigInt(1 + random(40));
      const kind = random(4);
      const moved =
        kind === 0
          ? bank.deposit(to, amount)
          : kind === 1
            ? bank.withdraw(from, amount)
            : from === to
              ? Promise.resolve()
              : bank.transfer({ fromId: from, toId: to, amount });
      await (moved as Promise<unknown>).catch(() => {}); // refusals are part of a book too
    }
    assert.ok((await bank.verify()).ok, 'sound before the damage');

    // Damage of every kind verify looks for, written past the schema's own guards.
    await db.pool.query('ALTER TABLE roachbank.transfers DROP CONSTRAINT transfers_from_id_fkey');
    await db.pool.query('ALTER TABLE roachbank.transfers DROP CONSTRAINT transfers_to_id_fkey');
    await db.pool.query('ALTER TABLE roachbank.accounts DROP CONSTRAINT accounts_balance_floor_check');
    const self = ids[0]!;
    await db.pool.query(
      "INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency) VALUES ($1, 'transfer', $2, $2, 5, 'XXX')",
      [newId(), self],
    );
    await db.pool.query(
      "INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency) VALUES ($1, 'deposit', NULL, NULL, 7, 'XXX')",
      [newId()],
    );
    await db.pool.query(
      "INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency) VALUES ($1, 'deposit', NULL, $2, 11, 'XXX')",
      [newId(), newId()],
    );
    await db.pool.query('UPDATE roachbank.accounts SET balance = balance + 3 WHERE id = $1', [ids[1]]);
    await db.pool.query('UPDATE roachbank.accounts SET balance = -4 WHERE id = $1', [ids[2]]);

    const accounts = (await db.pool.query<{ id: string; balance: string }>('SELECT id, balance FROM roachbank.accounts')).rows;
    const journal = (
      await db.pool.query<{ from_id: string | null; to_id: string | null; amount: string }>(
        'SELECT from_id, to_id, amount FROM roachbank.transfers',
      )
    ).rows;
    const net = new Map<string, bigint>();
    let moneyIn = 0n;
    let moneyOut = 0n;
    let malformed = 0;
    for (const row of journal) {
      const amount = BigInt(row.amount);
      if (row.from_id === null) moneyIn += amount;
      else net.set(row.from_id, (net.get(row.from_id) ?? 0n) - amount);
      if (row.to_id === null) moneyOut += amount;
      else net.set(row.to_id, (net.get(row.to_id) ?? 0n) + amount);
      if ((row.from_id === null && row.to_id === null) || row.from_id === row.to_id) malformed++;
    }
    const known = new Set(accounts.map((a) => a.id));
    const mismatched =
      accounts.filter((a) => BigInt(a.balance) !== (net.get(a.id) ?? 0n)).length +
      [...net.keys()].filter((id) => !known.has(id)).length;

    const { elapsedMs: _, ...report } = await bank.verify();
    assert.deepEqual(
      {
        ok: report.ok,
        accounts: report.accounts,
        transfers: report.transfers,
        totalBalance: report.totalBalance,
        moneyIn: report.moneyIn,
        moneyOut: report.moneyOut,
        mismatchedCount: report.mismatchedCount,
        negativeCount: report.negativeCount,
        malformedTransfers: report.malformedTransfers,
      },
      {
        ok: false,
        accounts: accounts.length,
        transfers: journal.length,
        totalBalance: accounts.reduce((sum, a) => sum + BigInt(a.balance), 0n),
        moneyIn,
        moneyOut,
        mismatchedCount: mismatched,
        negativeCount: accounts.filter((a) => BigInt(a.balance) < 0n).length,
        malformedTransfers: malformed,
      },
    );
    assert.equal(mismatched, 3, 'the +3, the −4 and the missing account');
    assert.equal(malformed, 2);
    assert.deepEqual(new Set(report.mismatched.map((m) => m.id)), new Set([ids[1], ids[2], '(missing account)']));
  });
});
