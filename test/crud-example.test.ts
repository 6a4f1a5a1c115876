import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { RoachbankError } from '../src/errors/roachbank-error.js';
import { createAccountsTable } from '../src/examples/account-model.js';
import { createAccounts, moveFunds, randomAccounts } from '../src/examples/crud.js';
import { runOrmTransaction } from '../src/orm/run-orm-transaction.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const uuidV4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** Reads the demo's stdout line by line, exactly as the tutorial prints it. */
function parseStory(stdout: string) {
  const lines = stdout.split('\n');
  assert.equal(lines.pop(), '', 'output ends with a newline');
  let i = 0;
  const next = (pattern: RegExp): RegExpExecArray => {
    const line = lines[i++] ?? '';
    const match = pattern.exec(line);
    assert.ok(match, `line ${i}: ${JSON.stringify(line)} does not match ${pattern}`);
    return match;
  };
  next(/^Creating new accounts\.\.\.$/);
  const created = new Map<string, bigint>();
  for (let n = 0; n < 100; n++) {
    const [, id, balance] = next(new RegExp(`^Created new account with id (${uuidV4}) and balance (\\d+)\\.$`));
    assert.ok(BigInt(balance!) < 1_000_000n);
    created.set(id!, BigInt(balance!));
  }
  next(/^Random account balances:$/);
  const [, a, aBalance] = next(new RegExp(`^Account (${uuidV4}): (\\d+)$`));
  const [, b, bBalance] = next(new RegExp(`^Account (${uuidV4}): (\\d+)$`));
  const [, amount, from, to] = next(new RegExp(`^Transferring (\\d+) from account (${uuidV4}) to account (${uuidV4})\\.\\.\\.$`));
  next(/^Transfer complete\.$/);
  next(/^New balances:$/);
  const [, a2, aAfter] = next(new RegExp(`^Account (${uuidV4}): (\\d+)$`));
  const [, b2, bAfter] = next(new RegExp(`^Account (${uuidV4}): (\\d+)$`));
  next(/^Deleting existing accounts\.\.\.$/);
  const deleted = Array.from({ length: 5 }, () => next(new RegExp(`^Deleted account (${uuidV4})\\.$`))[1]!);
  assert.equal(i, lines.length, 'nothing else on stdout');
  return {
    created,
    a: a!,
    b: b!,
    from: from!,
    to: to!,
    a2: a2!,
    b2: b2!,
    deleted,
    aBalance: BigInt(aBalance!),
    bBalance: BigInt(bBalance!),
    amount: BigInt(amount!),
    aAfter: BigInt(aAfter!),
    bAfter: BigInt(bAfter!),
  };
}

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('crud');
});
after(() => db.drop());

describe('roachbank example crud (seed demo 2)', () => {
  test('prints the tutorial line for line on a fresh database and leaves 95 rows that match the story', async () => {
    const result = await runCli(['example', 'crud'], { DATABASE_URL: db.url });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const story = parseStory(result.stdout);

    assert.equal(story.created.size, 100, 'ids are distinct');
    assert.notEqual(story.a, story.b);
    assert.deepEqual([story.from, story.to, story.a2, story.b2], [story.a, story.b, story.a, story.b]);
    assert.equal(story.aBalance, story.created.get(story.a));
    assert.equal(story.bBalance, story.created.get(story.b));
    assert.equal(story.amount, story.aBalance / 2n);
    assert.equal(story.aAfter, story.aBalance - story.amount);
    assert.equal(story.bAfter, story.bBalance + story.amount);
    assert.equal(new Set(story.deleted).size, 5);
    for (const id of story.deleted) assert.ok(story.created.has(id), 'deletes only accounts it created');

    const expected = new Map(story.created);
    expected.set(story.a, story.aAfter);
    expected.set(story.b, story.bAfter);
    for (const id of story.deleted) expected.delete(id);
    const { rows } = await db.pool.query<{ id: string; balance: string }>('SELECT id, balance FROM accounts');
    assert.equal(rows.length, 95);
    assert.deepEqual(new Map(rows.map((r) => [r.id, BigInt(r.balance)])), expected);
  });

  test('never deletes rows it did not create', async () => {
    const stranger = '00000000-0000-4000-8000-0000000000aa';
    await db.pool.query('INSERT INTO accounts VALUES ($1, 1)', [stranger]);
    for (let run = 0; run < 3; run++) {
      const result = await runCli(['example', 'crud'], { DATABASE_URL: db.url });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(!result.stdout.includes(stranger));
    }
    assert.equal((await db.pool.query('SELECT 1 FROM accounts WHERE id = $1', [stranger])).rowCount, 1);
  });

  test('the insufficient-funds check fires and writes nothing', async () => {
    const [rich, poor] = randomAccounts(2);
    await runOrmTransaction(db.pool, (tx) =>
      createAccounts(tx, [
        { ...rich!, balance: 10n },
        { ...poor!, balance: 0n },
      ]),
    );
    await assert.rejects(
      runOrmTransaction(db.pool, (tx) => moveFunds(tx, { ...rich!, balance: 10n }, { ...poor!, balance: 0n }, 11n)),
      (error) => error instanceof RoachbankError && error.code === 'INSUFFICIENT_FUNDS',
    );
    const { rows } = await db.pool.query('SELECT balance FROM accounts WHERE id = ANY($1) ORDER BY balance', [
      [rich!.id, poor!.id],
    ]);
    assert.deepEqual(
      rows.map((r) => r.balance),
      ['0', '10'],
    );
  });

  test('a retried creation step records each account once', async () => {
    const fresh = await createTestDatabase('crud_retry');
    try {
      await fresh.pool.query(createAccountsTable);
      const newAccounts = randomAccounts(100);
      let attempts = 0;
      await runOrmTransaction(fresh.pool, async (tx, attempt) => {
        attempts = attempt;
        await createAccounts(tx, newAccounts);
        if (attempt === 1) await tx.execute(sql.raw("DO $$ BEGIN RAISE EXCEPTION 'retry me' USING ERRCODE = '40001'; END $$"));
      });
      assert.equal(attempts, 2);
      assert.equal((await fresh.pool.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n, 100);
    } finally {
      await fresh.drop();
    }
  });

  test('runs twice in a row on the embedded default, after the hello demo (npm start)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'roachbank-crud-'));
    try {
      const all = await runCli(['example', 'all'], { ROACHBANK_DATA_DIR: dataDir });
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^Balances at [^\n]+\n\(1, 1000\)\n[\s\S]*\(2, 350\)\nCreating new accounts\.\.\.\n/);
      parseStory(all.stdout.slice(all.stdout.indexOf('Creating new accounts')));
      const again = await runCli(['example', 'crud'], { ROACHBANK_DATA_DIR: dataDir });
      assert.equal(again.code, 0, again.stderr);
      parseStory(again.stdout);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
