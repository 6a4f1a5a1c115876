import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { runOrmTransaction } from '../packages/roachbank/src/orm/run-orm-transaction.js';
import { createAccounts, moveFunds } from '../packages/roachbank-app/src/examples/crud-drizzle.js';
import { crudLibraries } from '../packages/roachbank-app/src/examples/crud-libraries.js';
import { createAccountsTable, randomAccounts } from '../packages/roachbank-app/src/examples/crud-story.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** The test server's CA (test/run-tests.ts starts it with TLS on). */
const caFile = new URL('./fixtures/tls/ca.crt', import.meta.url).pathname;

/** A path inside the project. */
const projectPath = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

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

/** The story is consistent with itself, and `accounts` holds exactly what it says: 95 rows. */
async function assertRowsTellStory(pool: pg.Pool, story: ReturnType<typeof parseStory>): Promise<void> {
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
  const { rows } = await pool.query<{ id: string; balance: string }>('SELECT id, balance FROM accounts');
  assert.equal(rows.length, 95);
  assert.deepEqual(new Map(rows.map((r) => [r.id, BigInt(r.balance)])), expected);
}

/**
 * A trigger on `accounts` that fails the first write of every transaction's
 * first attempt with 40001, once per transaction: the local setting marks
 * "already written in this attempt" and is undone with the attempt, and the
 * sequence (which no rollback undoes) tells a first attempt (odd) from its retry.
 * Each committed transaction also notes whether its connection used TLS.
 */
const failEachTransactionOnce = `
  CREATE SEQUENCE write_attempts;
  CREATE TABLE committed_writes (tls BOOL NOT NULL);
  CREATE FUNCTION fail_each_transaction_once() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF coalesce(current_setting('crud_test.wrote', true), '') = '' THEN
      PERFORM set_config('crud_test.wrote', 'yes', true);
      IF nextval('write_attempts') % 2 = 1 THEN
        RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
      END IF;
      INSERT INTO committed_writes SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER fail_each_transaction_once BEFORE INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION fail_each_transaction_once();`;

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
    await assertRowsTellStory(db.pool, parseStory(result.stdout));
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

describe('roachbank example crud --orm <library> (the same story in each data layer)', () => {
  for (const orm of crudLibraries) {
    test(`${orm}: prints the tutorial, leaves 95 rows that match it, re-runs each step once after an injected 40001, over verified TLS`, async () => {
      const own = await createTestDatabase(`crud_${orm}`);
      try {
        await own.pool.query(createAccountsTable);
        await own.pool.query(failEachTransactionOnce);
        // The libraries that open their own connections (Knex, TypeORM, Sequelize) must open them as roachbank does.
        const verifiedTls = `${own.url}${own.url.includes('?') ? '&' : '?'}sslmode=verify-full&sslrootcert=${caFile}`;
        const result = await runCli(['example', 'crud', '--orm', orm], { DATABASE_URL: verifiedTls });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stderr, '');
        await assertRowsTellStory(own.pool, parseStory(result.stdout));
        // Three transactions (create, transfer, delete), each failed once and committed on its retry.
        const { rows } = await own.pool.query('SELECT last_value::int AS n FROM write_attempts');
        assert.equal(rows[0].n, 6);
        const writes = await own.pool.query('SELECT tls FROM committed_writes');
        assert.deepEqual(
          writes.rows.map((row) => row.tls),
          [true, true, true],
        );
      } finally {
        await own.drop();
      }
    });
  }

  test('an unknown library, or --orm on the hello demo, is a usage error that touches nothing', async () => {
    const fresh = await createTestDatabase('crud_usage');
    try {
      const unknown = await runCli(['example', 'crud', '--orm', 'mongoose'], { DATABASE_URL: fresh.url });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /INVALID_ARGUMENT: .*mongoose.*drizzle, kysely, knex, typeorm, sequelize, prisma/);
      const hello = await runCli(['example', 'hello', '--orm', 'kysely'], { DATABASE_URL: fresh.url });
      assert.equal(hello.code, 2);
      assert.match(hello.stderr, /INVALID_ARGUMENT: --orm applies to the crud demo/);
      assert.equal(hello.stdout + unknown.stdout, '');
      const { rows } = await fresh.pool.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      assert.equal(rows[0].n, 0, 'no table was created');
    } finally {
      await fresh.drop();
    }
  });

  test('a library that is not installed is named, with the command that installs it, before anything is written', async () => {
    // The built CLI in a project whose node_modules holds everything but kysely, as for a user who never installed it.
    const root = await mkdtemp(join(tmpdir(), 'roachbank-no-kysely-'));
    const fresh = await createTestDatabase('crud_missing');
    try {
      await cp(projectPath('packages/roachbank-app/dist/cli-bundle'), join(root, 'dist/cli-bundle'), { recursive: true });
      await cp(projectPath('packages/roachbank-app/bin'), join(root, 'bin'), { recursive: true });
      await symlink(projectPath('packages/roachbank-app/package.json'), join(root, 'package.json'));
      await mkdir(join(root, 'node_modules'));
      for (const entry of await readdir(projectPath('node_modules'))) {
        if (entry !== 'kysely') await symlink(projectPath(`node_modules/${entry}`), join(root, 'node_modules', entry));
      }
      const result = await runCli(['example', 'crud', '--orm', 'kysely'], { DATABASE_URL: fresh.url }, undefined, undefined, {
        bin: join(root, 'bin/roachbank.js'),
      });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        'roachbank: INVALID_ARGUMENT: the crud example on kysely needs kysely, an optional peer dependency of roachbank-app that is not installed: npm install kysely\n',
      );
      const { rows } = await fresh.pool.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
      assert.equal(rows[0].n, 0, 'no table was created');
      // The same copy runs a library it has.
      const drizzle = await runCli(['example', 'crud', '--orm', 'drizzle'], { DATABASE_URL: fresh.url }, undefined, undefined, {
        bin: join(root, 'bin/roachbank.js'),
      });
      assert.equal(drizzle.code, 0, drizzle.stderr);
    } finally {
      await fresh.drop();
      await rm(root, { recursive: true, force: true });
    }
  });
});
