// `options` in DATABASE_URL is joined with roachbank's own startup settings,
// never swapped for them: node-postgres on its own lets the URL's replace the
// pool's, which drops `default_transaction_isolation=read committed` and turns
// every single-statement movement into a literal BEGIN … COMMIT batch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { migrate } from '../packages/roachbank/src/db/migrate.js';
import { clientConfigOf } from '../packages/roachbank/src/db/pool-config.js';
import { mergeStartupOptions, parseStartupOptions } from '../packages/roachbank/src/db/startup-options.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startWireProxy, type WireProxy } from './support/wire-proxy.js';

describe('startup options', () => {
  test('libpq forms read, escapes kept, the later value winning', () => {
    assert.deepEqual(
      [...parseStartupOptions('-c statement_timeout=5s -capplication_name=a\\ b --lock-timeout=1s -c statement_timeout=7s')],
      [
        ['application_name', 'a b'],
        ['lock_timeout', '1s'],
        ['statement_timeout', '7s'],
      ],
    );
    const own = new Map([['default_transaction_isolation', 'read committed']]);
    assert.equal(
      mergeStartupOptions(own, '-c statement_timeout=5s'),
      '-c default_transaction_isolation=read\\ committed -c statement_timeout=5s',
    );
    assert.equal(
      mergeStartupOptions(own, '-c default_transaction_isolation=serializable'),
      '-c default_transaction_isolation=serializable',
    );
    for (const bad of ['-B 100', '-c', '-c =5', 'statement_timeout=5s']) {
      assert.throws(
        () => parseStartupOptions(bad),
        (error: unknown) => error instanceof RoachbankError && error.code === 'INVALID_ARGUMENT',
        bad,
      );
    }
  });
});

describe('options in DATABASE_URL, on the server', () => {
  let db: TestDatabase;
  let proxy: WireProxy;

  before(async () => {
    db = await createTestDatabase('startup_options');
    await migrate(db.pool);
    proxy = await startWireProxy(Number(new URL(db.url).port));
  });
  after(async () => {
    await proxy.close();
    await db.drop();
  });

  /** What the server receives for one transfer, through a pool on `url`. */
  async function statementsOfOneTransfer(url: string): Promise<string[]> {
    const pool = createPool(url, { max: 1, statementIsolation: 'read committed' });
    const bank = createBank(pool, { batch: false });
    try {
      const from = await bank.createAccount({ balance: 100n });
      const to = await bank.createAccount();
      await pool.query('SELECT 1'); // the connection is open: only the transfer is seen below
      const seen: string[] = [];
      proxy.setPolicy((message) => {
        if (message.sql ?? message.statement) seen.push(`${message.type} ${message.sql ?? message.statement}`);
        return 'forward';
      });
      await bank.transfer({ fromId: from.id, toId: to.id, amount: 1n });
      proxy.setPolicy(() => 'forward');
      return seen;
    } finally {
      await pool.end();
    }
  }

  test('a movement sends the same statements with and without URL options, and the URL setting takes effect', async () => {
    const plain = proxy.urlThrough(db.url);
    const withOptions = new URL(plain);
    withOptions.searchParams.set('options', '-c statement_timeout=5s');
    const without = await statementsOfOneTransfer(plain);
    const withThem = await statementsOfOneTransfer(withOptions.toString());
    assert.ok(without.length > 0, 'the proxy saw the transfer');
    assert.ok(!without.some((text) => /\bBEGIN\b/i.test(text)), `one prepared statement, no BEGIN: ${without.join(' | ')}`);
    assert.deepEqual(withThem, without);

    const pool = createPool(withOptions.toString(), { max: 1, statementIsolation: 'read committed' });
    try {
      const { rows } = await pool.query<{ timeout: string; isolation: string }>(
        `SELECT current_setting('statement_timeout') AS timeout, current_setting('default_transaction_isolation') AS isolation`,
      );
      assert.deepEqual(rows[0], { timeout: '5s', isolation: 'read committed' });
      // A data layer given clientConfigOf(pool) connects with both settings too.
      const config = clientConfigOf(pool);
      assert.doesNotMatch(String(config.connectionString), /[?&]options=/);
      assert.equal(config.options, '-c default_transaction_isolation=read\\ committed -c statement_timeout=5s');
    } finally {
      await pool.end();
    }
  });

  test("the URL's value wins where both name a setting", async () => {
    const url = new URL(db.url);
    url.searchParams.set('options', '-c default_transaction_isolation=serializable');
    const pool = createPool(url.toString(), { max: 1, statementIsolation: 'read committed' });
    try {
      const { rows } = await pool.query<{ isolation: string }>(
        `SELECT current_setting('default_transaction_isolation') AS isolation`,
      );
      assert.equal(rows[0]?.isolation, 'serializable');
    } finally {
      await pool.end();
    }
  });

  test('options that are not session settings are INVALID_ARGUMENT before any connection', () => {
    const url = new URL(db.url);
    url.searchParams.set('options', '-B 100');
    assert.throws(
      () => createPool(url.toString()),
      (error: unknown) =>
        error instanceof RoachbankError && error.code === 'INVALID_ARGUMENT' && !error.message.includes('postgres:'),
    );
  });
});
