// Currencies and credit limits: the Bank contract for them, on both flavors and both pg
// paths, sequential and under concurrency. Every test ends with `verify` (conservation
// per currency, every journal leg in its account's currency, no account below its floor).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Bank, MoveAnswer, MovementResult } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import type { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { bankVariants } from './support/bank-variants.js';
import { rejectsWith } from './support/rejects-with.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const codeOf = (result: PromiseSettledResult<unknown> | MovementResult<MoveAnswer>) => {
  if ('status' in result) return result.status === 'fulfilled' ? 'ok' : ((result.reason as RoachbankError).code ?? 'error');
  return result.ok ? 'ok' : ((result.error as RoachbankError).code ?? String(result.error));
};
const tally = (codes: readonly string[]) =>
  Object.fromEntries([...new Set(codes)].sort().map((code) => [code, codes.filter((c) => c === code).length]));

for (const { flavor, batch, name } of bankVariants) {
  describe(`currencies and credit limits (${name})`, () => {
    let db: TestDatabase;
    let bank: Bank;
    before(async () => {
      db = await createTestDatabase(`currency_${flavor}_${batch ? 'batched' : 'single'}`, { max: 16 });
      await ensureSchema(db.pool);
      bank = await loadBank(db.pool, flavor, batch ? {} : { batch: false });
    });
    afterEach(async () => {
      const report = await bank.verify();
      assert.ok(report.ok, `verify after the test: ${JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
    });
    after(() => db.drop());

    test('an account keeps the currency it was opened with; none named is XXX', async () => {
      const usd = await bank.createAccount({ currency: 'USD', balance: 500n });
      const plain = await bank.createAccount({ balance: 5n });
      assert.deepEqual([usd.currency, usd.creditLimit, plain.currency], ['USD', 0n, 'XXX']);
      assert.equal((await bank.getAccount(usd.id)).currency, 'USD');
      const [opening] = (await bank.history(usd.id)).items;
      assert.equal(opening!.currency, 'USD', 'the opening deposit is in the account’s currency');
      await rejectsWith(bank.openAccount({ id: usd.id, currency: 'EUR', balance: 500n }), 'IDEMPOTENCY_CONFLICT', /USD, not EUR/);
      assert.equal((await bank.openAccount({ id: usd.id, currency: 'USD', balance: 500n })).replayed, true);
      await rejectsWith(bank.createAccount({ currency: 'usd' }), 'INVALID_ARGUMENT', /upper-case code/);
      await rejectsWith(bank.createAccount({ currency: 'US' }), 'INVALID_ARGUMENT');
      // 0 is a limit (the default), so a refusal must not say "positive".
      await rejectsWith(bank.createAccount({ creditLimit: -5n }), 'INVALID_ARGUMENT', /credit limit must be at least 0, got -5/);
      await rejectsWith(
        bank.setCreditLimit(usd.id, 'x' as never),
        'INVALID_ARGUMENT',
        /must be a whole number, 0 or more, got "x"/,
      );
      assert.equal((await bank.createAccount({ creditLimit: 0n })).creditLimit, 0n);
    });

    test('a movement or hold between currencies is CURRENCY_MISMATCH and writes nothing', async () => {
      const usd = await bank.createAccount({ currency: 'USD', balance: 100n });
      const eur = await bank.createAccount({ currency: 'EUR', balance: 100n });
      const before = (await bank.verify()).transfers;
      await rejectsWith(bank.transfer({ fromId: usd.id, toId: eur.id, amount: 1n }), 'CURRENCY_MISMATCH');
      await rejectsWith(bank.hold({ fromId: usd.id, toId: eur.id, amount: 1n }), 'CURRENCY_MISMATCH');
      // Closed or missing comes first, then the currency, then the funds.
      await rejectsWith(bank.transfer({ fromId: usd.id, toId: eur.id, amount: 1000n }), 'CURRENCY_MISMATCH');
      const results = await bank.transferMany([
        { fromId: usd.id, toId: eur.id, amount: 1n },
        { fromId: eur.id, toId: usd.id, amount: 1n },
        { toId: usd.id, amount: 1n },
      ]);
      assert.deepEqual(results.map(codeOf), ['CURRENCY_MISMATCH', 'CURRENCY_MISMATCH', 'ok']);
      assert.deepEqual(
        [(await bank.getAccount(usd.id)).balance, (await bank.getAccount(eur.id)).balance, (await bank.verify()).transfers],
        [101n, 100n, before + 1],
      );
      assert.deepEqual(
        (await bank.verify()).currencies.filter((c) => c.currency === 'EUR' || c.currency === 'USD').map((c) => c.currency),
        ['EUR', 'USD'],
      );
    });

    test('an exchange is an atomic group through an exchange account in each currency', async () => {
      const alice = {
        usd: await bank.createAccount({ currency: 'USD', balance: 10_000n }),
        eur: await bank.createAccount({ currency: 'EUR' }),
      };
      const desk = {
        usd: await bank.createAccount({ currency: 'USD' }),
        eur: await bank.createAccount({ currency: 'EUR', balance: 1_000_000n }),
      };
      // 100.00 USD for 92.00 EUR, all or nothing.
      const exchange = (usd: bigint, eur: bigint) =>
        bank.transferMany(
          [
            { fromId: alice.usd.id, toId: desk.usd.id, amount: usd },
            { fromId: desk.eur.id, toId: alice.eur.id, amount: eur },
          ],
          { atomic: true },
        );
      assert.deepEqual((await exchange(10_000n, 9_200n)).map(codeOf), ['ok', 'ok']);
      assert.deepEqual((await exchange(1n, 1n)).map(codeOf), ['INSUFFICIENT_FUNDS', 'GROUP_FAILED'], 'nothing left to sell');
      const balances = await bank.balances([alice.usd.id, alice.eur.id, desk.usd.id, desk.eur.id]);
      assert.deepEqual(balances, [0n, 9_200n, 10_000n, 990_800n]);
    });

    test('a credit line lets the available balance go to −limit and not one unit further', async () => {
      const a = await bank.createAccount({ currency: 'USD', creditLimit: 100n });
      const b = await bank.createAccount({ currency: 'USD' });
      await rejectsWith(
        bank.withdraw(a.id, 101n),
        'INSUFFICIENT_FUNDS',
        /has 0 available and a credit limit of 100, cannot debit 101/,
      );
      await bank.transfer({ fromId: a.id, toId: b.id, amount: 60n });
      await bank.hold({ fromId: a.id, amount: 30n });
      const account = await bank.getAccount(a.id);
      assert.deepEqual([account.balance, account.held, account.available], [-60n, 30n, -90n]);
      await rejectsWith(bank.withdraw(a.id, 11n), 'INSUFFICIENT_FUNDS');
      await bank.withdraw(a.id, 10n);
      assert.equal((await bank.getAccount(a.id)).available, -100n, 'exactly at the floor');
      await rejectsWith(bank.hold({ fromId: a.id, amount: 1n }), 'INSUFFICIENT_FUNDS');
      await rejectsWith(bank.closeAccount(a.id), 'ACCOUNT_NOT_EMPTY');
    });

    test('64 concurrent debits of an account whose credit line allows exactly 10: 10 succeed', async () => {
      const a = await bank.createAccount({ currency: 'EUR', creditLimit: 10n });
      const b = await bank.createAccount({ currency: 'EUR' });
      const settled = await Promise.allSettled(
        Array.from({ length: 64 }, (_, i) =>
          i % 2 === 0 ? bank.transfer({ fromId: a.id, toId: b.id, amount: 1n }) : bank.withdraw(a.id, 1n),
        ),
      );
      assert.deepEqual(tally(settled.map(codeOf)), { INSUFFICIENT_FUNDS: 54, ok: 10 });
      assert.equal((await bank.getAccount(a.id)).balance, -10n);
    });

    test('setCreditLimit: raised at will, lowered only to what the account owes, the same limit changes nothing', async () => {
      const a = await bank.createAccount({ currency: 'USD' });
      assert.equal((await bank.setCreditLimit(a.id, 50n)).creditLimit, 50n);
      await bank.withdraw(a.id, 40n);
      await bank.hold({ fromId: a.id, amount: 5n });
      await rejectsWith(bank.setCreditLimit(a.id, 44n), 'CREDIT_LIMIT_IN_USE', /owes 45/);
      assert.equal((await bank.setCreditLimit(a.id, 45n)).creditLimit, 45n, 'exactly what it owes');
      assert.equal((await bank.setCreditLimit(a.id, 45n)).creditLimit, 45n);
      assert.equal((await bank.getAccount(a.id)).creditLimit, 45n);
      await rejectsWith(bank.withdraw(a.id, 1n), 'INSUFFICIENT_FUNDS');
      await rejectsWith(bank.setCreditLimit(a.id, -1n), 'INVALID_ARGUMENT');
      await rejectsWith(bank.setCreditLimit('00000000-0000-4000-8000-000000000000', 5n), 'ACCOUNT_NOT_FOUND');
      const closed = await bank.createAccount();
      await bank.closeAccount(closed.id);
      await rejectsWith(bank.setCreditLimit(closed.id, 5n), 'ACCOUNT_NOT_FOUND');
    });

    test('verify totals each currency on its own', async () => {
      const report = await bank.verify();
      for (const c of report.currencies) assert.equal(c.totalBalance, c.moneyIn - c.moneyOut, c.currency);
      assert.deepEqual(
        report.currencies.map((c) => c.currency),
        [...new Set(report.currencies.map((c) => c.currency))].sort(),
      );
      assert.equal(report.currencyMismatchedLegs, 0);
    });
  });
}

describe('verify sees a journal row in the wrong currency and an account below its floor', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('currency_damage');
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  test('each damage is counted, and verify fails', async () => {
    const bank = createBank(db.pool);
    const usd = await bank.createAccount({ currency: 'USD', balance: 10n });
    const eur = await bank.createAccount({ currency: 'EUR', creditLimit: 5n });
    assert.ok((await bank.verify()).ok);
    await db.pool.query("UPDATE roachbank.transfers SET currency = 'EUR' WHERE to_id = $1", [usd.id]);
    let report = await bank.verify();
    assert.deepEqual([report.ok, report.currencyMismatchedLegs], [false, 1]);
    assert.deepEqual(
      report.currencies.map((c) => [c.currency, c.totalBalance, c.moneyIn]),
      [
        ['EUR', 0n, 10n],
        ['USD', 10n, 0n],
      ],
    );
    await db.pool.query("UPDATE roachbank.transfers SET currency = 'USD' WHERE to_id = $1", [usd.id]);
    await db.pool.query('ALTER TABLE roachbank.accounts DROP CONSTRAINT accounts_balance_floor_check');
    await db.pool.query('UPDATE roachbank.accounts SET balance = -6 WHERE id = $1', [eur.id]);
    await db.pool.query(
      "INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency) VALUES (gen_random_uuid(), 'withdrawal', $1, NULL, 6, 'EUR')",
      [eur.id],
    );
    report = await bank.verify();
    assert.deepEqual([report.ok, report.negativeCount, report.overheldCount, report.mismatchedCount], [false, 1, 1, 0]);
  });
});
