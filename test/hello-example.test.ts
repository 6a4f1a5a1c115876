import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../packages/roachbank/src/db/migrate.js';
import { asctime } from '../packages/roachbank-app/src/examples/asctime.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const stamp =
  '(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}';
const expected = new RegExp(
  `^Balances at ${stamp}:\\n\\(1, 1000\\)\\n\\(2, 250\\)\\nBalances at ${stamp}:\\n\\(1, 900\\)\\n\\(2, 350\\)\\n$`,
);

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('hello');
});
after(() => db.drop());

describe('roachbank example hello (seed demo 1)', () => {
  test('prints what the psycopg2 tutorial prints, runs again and again, and touches only its own rows', async () => {
    // Neighbours the demo must leave alone: the ORM demo's table, the product schema, a stranger's row.
    await db.pool.query('CREATE TABLE accounts (id UUID PRIMARY KEY, balance INT8)');
    await db.pool.query("INSERT INTO accounts VALUES ('00000000-0000-4000-8000-000000000001', 5)");
    await migrate(db.pool);
    await db.pool.query('INSERT INTO roachbank.accounts (balance) VALUES (77)');
    await db.pool.query('CREATE TABLE hello_accounts (id INT8 PRIMARY KEY, balance INT8)');
    await db.pool.query('INSERT INTO hello_accounts VALUES (3, 3)');
    const snapshot = async () =>
      (
        await db.pool.query(
          `SELECT (SELECT json_agg(a ORDER BY id) FROM accounts a) AS orm,
                (SELECT json_agg(b.balance) FROM roachbank.accounts b) AS product,
                (SELECT json_agg(h ORDER BY id) FROM hello_accounts h) AS hello`,
        )
      ).rows[0];
    const before = await snapshot();

    for (let run = 0; run < 2; run++) {
      const result = await runCli(['example', 'hello'], { DATABASE_URL: db.url });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, expected);
      assert.equal(result.stderr, '');
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('asctime matches Python time.asctime(), day padded with a space', () => {
    assert.equal(asctime(new Date(2020, 9, 30, 18, 27, 0)), 'Fri Oct 30 18:27:00 2020');
    assert.equal(asctime(new Date(1993, 5, 9, 4, 26, 40)), 'Wed Jun  9 04:26:40 1993');
  });
});
