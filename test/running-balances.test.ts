// Running balances (migration 0008): every journal row records, for each account it names,
// the account's balance after it and its number in the account's chain. On both flavors
// and both pg paths: every kind of movement, batches that credit one account many times,
// and concurrent debits keep each chain 1, 2, 3 … with each balance following from the one
// before; a twin that commits one of a batch's ids while the batch waits on its locks makes
// the batch go again rather than leave a gap; and verify sees every kind of damage.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Bank } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { movement, postMovement } from '../packages/roachbank/src/bank/movement.js';
import { moveSql } from '../packages/roachbank/src/bank/movement-statements.js';
import { PgStore } from '../packages/roachbank/src/bank/pg-store.js';
import { storeRetry } from '../packages/roachbank/src/bank/store-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { bankVariants } from './support/bank-variants.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/** An account's legs in chain order, from the journal: (number, balance after, change). */
async function chainOf(db: TestDatabase, account: string): Promise<{ sequence: number; balance: bigint; delta: bigint }[]> {
  const { rows } = await db.pool.query<{ sequence: string; balance: string; delta: string }>(
    `SELECT from_sequence AS sequence, from_balance_after AS balance, -amount AS delta FROM roachbank.transfers WHERE from_id = $1
     UNION ALL
     SELECT to_sequence, to_balance_after, amount FROM roachbank.transfers WHERE to_id = $1
     ORDER BY 1`,
    [account],
  );
  return rows.map((r) => ({ sequence: Number(r.sequence), balance: BigInt(r.balance), delta: BigInt(r.delta) }));
}

/** Asserts the chain of each account: numbered from 1 without a gap, each balance the one before plus its change, the last the account's. */
async function assertChains(db: TestDatabase, bank: Bank, accounts: readonly string[]): Promise<void> {
  for (const id of accounts) {
    const chain = await chainOf(db, id);
    let balance = 0n;
    chain.forEach((leg, i) => {
      balance += leg.delta;
      assert.deepEqual([leg.sequence, leg.balance], [i + 1, balance], `account ${id}, leg ${i + 1}`);
    });
    assert.equal((await bank.getAccount(id)).balance, balance, `account ${id}: the last balance after is its balance`);
  }
}

for (const { flavor, batch, name } of bankVariants) {
  describe(`running balances (${name})`, () => {
    let db: TestDatabase;
    let bank: Bank;
    before(async () => {
      db = await createTestDatabase(`chains_${flavor}_${batch ? 'batched' : 'single'}`, { max: 16 });
      await ensureSchema(db.pool);
      bank = await loadBank(db.pool, flavor, batch ? {} : { batch: false });
    });
    afterEach(async () => {
      const report = await bank.verify();
      assert.deepEqual([report.ok, report.brokenChainCount], [true, 0]);
    });
    after(() => db.drop());

    test('every kind of movement numbers its accounts’ rows and records the balance after each', async () => {
      const a = await bank.createAccount({ balance: 1000n });
      const b = await bank.createAccount();
      const moved = await bank.transfer({ fromId: a.id, toId: b.id, amount: 100n });
      assert.deepEqual(
        [moved.transfer.fromSequence, moved.transfer.fromBalanceAfter, moved.transfer.toSequence, moved.transfer.toBalanceAfter],
        [2, 900n, 1, 100n],
      );
      assert.deepEqual((await bank.getTransfer(moved.transfer.id)).fromBalanceAfter, 900n, 'read back as written');
      await bank.deposit(b.id, 5n);
      await bank.withdraw(a.id, 50n);
      // One batch that credits b three times and debits three accounts: numbered in input order.
      const c = await bank.createAccount({ balance: 30n });
      const results = await bank.transferMany([
        { fromId: a.id, toId: b.id, amount: 1n },
        { fromId: c.id, toId: b.id, amount: 2n },
        { toId: b.id, amount: 3n },
      ]);
      assert.ok(results.every((r) => r.ok));
      const { hold } = await bank.hold({ fromId: a.id, toId: b.id, amount: 40n });
      await bank.postHold(hold.id, { amount: 30n });
      await bank.reverse(moved.transfer.id, { amount: 10n });
      const replay = await bank.transfer({ id: moved.transfer.id, fromId: a.id, toId: b.id, amount: 100n });
      assert.deepEqual([replay.replayed, replay.transfer.toSequence], [true, 1], 'a replay answers the row as it was');
      await assertChains(db, bank, [a.id, b.id, c.id]);
    });

    test('64 concurrent transfers into one account from 8: one chain, numbered 1 … 64', async () => {
      const sink = await bank.createAccount();
      const sources = await Promise.all(Array.from({ length: 8 }, () => bank.createAccount({ balance: 100n })));
      await Promise.all(
        Array.from({ length: 64 }, (_, i) => bank.transfer({ fromId: sources[i % 8]!.id, toId: sink.id, amount: 1n })),
      );
      const chain = await chainOf(db, sink.id);
      assert.deepEqual(
        chain.map((leg) => leg.sequence),
        Array.from({ length: 64 }, (_, i) => i + 1),
      );
      await assertChains(db, bank, [sink.id, ...sources.map((s) => s.id)]);
    });
  });
}

describe('a batch whose refused items sit between applied ones on the same accounts', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('chains_refused');
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  test('the numbers and balances after skip what was refused, in both batch statements', async () => {
    const bank = createBank(db.pool, { batch: false });
    const store = new PgStore(db.pool, storeRetry({}));
    const poor = (await bank.createAccount({ balance: 5n })).id;
    const sink = (await bank.createAccount({ balance: 1n })).id;
    const rich = (await bank.createAccount({ balance: 1_000n })).id;
    const replayed = await bank.deposit(sink, 2n);
    const { hold } = await bank.hold({ fromId: rich, toId: sink, amount: 10n });
    // The sink is credited by every item; the 1st (funds), the 3rd (a replay of a journaled
    // id) and, in the second batch, a post of more than its hold are refused: each applied
    // item after them is numbered as if they were not there.
    const plain = [
      movement({ id: randomUUID(), fromId: poor, toId: sink, amount: 50n }),
      movement({ id: randomUUID(), toId: sink, amount: 7n }),
      movement({ id: replayed.transfer.id, toId: sink, amount: 2n }),
      movement({ id: randomUUID(), fromId: rich, toId: sink, amount: 11n }),
    ];
    const answers = await store.moveBatch(plain);
    assert.deepEqual(
      answers.map((a) => a.ok),
      [false, true, true, true],
    );
    const mixed = [
      postMovement(hold, { id: randomUUID(), amount: 11n }),
      movement({ id: randomUUID(), fromId: poor, toId: sink, amount: 3n }),
    ];
    const more = await store.moveBatch(mixed);
    assert.deepEqual(
      more.map((a) => a.ok),
      [false, true],
    );
    await assertChains(db, bank, [poor, sink, rich]);
    assert.deepEqual(
      (await chainOf(db, sink)).map((leg) => [leg.sequence, leg.balance]),
      [
        [1, 1n],
        [2, 3n],
        [3, 10n],
        [4, 21n],
        [5, 24n],
      ],
    );
    assert.equal((await bank.verify()).brokenChainCount, 0);
  });
});

describe('a twin that commits one of a batch’s ids while the batch waits', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('chains_twin');
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  test('the batch goes again instead of numbering past a row it did not write', async () => {
    const bank = createBank(db.pool, { batch: false });
    const account = (await bank.createAccount({ balance: 10n })).id;
    const store = new PgStore(db.pool, storeRetry({}));
    const first = movement({ id: randomUUID(), toId: account, amount: 5n });
    const second = movement({ id: randomUUID(), toId: account, amount: 7n });
    // The twin holds the account's lock before the batch starts, so the batch's snapshot
    // predates the twin's row; it writes that row (the first item's, the same body) and commits
    // once the batch waits on the lock.
    const twin = await db.pool.connect();
    try {
      await twin.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await twin.query('SELECT 1 FROM roachbank.accounts WHERE id = $1 FOR UPDATE', [account]);
      const sent = store.moveBatch([first, second]);
      for (let poll = 0; poll < 200; poll++) {
        const { rows } = await db.pool.query(
          `SELECT count(*)::INT AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n >= 1) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await twin.query(moveSql, [first.id, null, account, 5n, 1, 'deposit', null, null]);
      await twin.query('COMMIT');
      const answers = await sent;
      assert.deepEqual(
        answers.map((a) => (a.ok ? ('transfer' in a.outcome && a.outcome.replayed ? 'replayed' : 'applied') : 'failed')),
        ['replayed', 'applied'],
      );
    } finally {
      twin.release();
    }
    await assertChains(db, bank, [account]);
    const report = await bank.verify();
    assert.deepEqual([report.ok, report.brokenChainCount], [true, 0]);
  });
});

describe('verify sees a broken chain', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('chains_damage');
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  test('a gap, a repeat, a balance that does not follow, an account number that does not match, a time that goes back: each counted', async () => {
    const bank = createBank(db.pool);
    const damage = [
      'UPDATE roachbank.transfers SET to_sequence = 3 WHERE to_id = $1 AND to_sequence = 2',
      'UPDATE roachbank.transfers SET to_sequence = 1 WHERE to_id = $1 AND to_sequence = 2',
      'UPDATE roachbank.transfers SET to_balance_after = to_balance_after + 1 WHERE to_id = $1 AND to_sequence = 1',
      'UPDATE roachbank.accounts SET sequence = sequence + 1 WHERE id = $1',
      'UPDATE roachbank.transfers SET to_sequence = NULL, to_balance_after = NULL WHERE to_id = $1 AND to_sequence = 2',
      // Row 2 stamped before row 1: a balance at a moment between them would read row 2 alone.
      "UPDATE roachbank.transfers SET created_at = created_at - INTERVAL '1 hour' WHERE to_id = $1 AND to_sequence = 2",
    ];
    for (const sql of damage) {
      const account = (await bank.createAccount({ balance: 10n })).id;
      await bank.deposit(account, 5n);
      assert.ok((await bank.verify()).ok);
      await db.pool.query(sql, [account]);
      const report = await bank.verify();
      assert.deepEqual([report.ok, report.brokenChainCount, report.mismatchedCount], [false, 1, 0], sql);
      await db.pool.query('DELETE FROM roachbank.transfers WHERE from_id = $1 OR to_id = $1', [account]);
      await db.pool.query('DELETE FROM roachbank.accounts WHERE id = $1', [account]);
    }
  });
});
