// Holds (post, void, expiry), atomic groups and reversals: the Bank contract for them,
// on both flavors and both pg paths, sequential and under concurrency. Every test ends
// with `verify` (held equals its pending holds, nothing overheld, posts and reversals
// well formed).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bank, MoveAnswer, MovementResult } from '../packages/roachbank/src/bank/bank.js';
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

for (const { flavor, batch, name } of bankVariants) {
  describe(`holds, atomic groups and reversals (${name})`, () => {
    let db: TestDatabase;
    let bank: Bank;
    before(async () => {
      db = await createTestDatabase(`holds_${flavor}`, { max: 16 });
      await ensureSchema(db.pool);
      bank = await loadBank(db.pool, flavor, batch ? {} : { batch: false });
    });
    afterEach(async () => {
      const report = await bank.verify();
      assert.ok(report.ok, `verify after the test: ${JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
    });
    after(() => db.drop());

    const funds = async (id: string) => {
      const { balance, held, available } = await bank.getAccount(id);
      return { balance, held, available };
    };

    test('a hold reserves money; a post moves it as one journal row; posting again answers what happened', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const { hold, replayed } = await bank.hold({ fromId: a.id, toId: b.id, amount: 60n });
      assert.deepEqual(
        [hold.status, hold.amount, hold.expiresAt, hold.postedAmount, replayed],
        ['pending', 60n, null, null, false],
      );
      assert.deepEqual(await funds(a.id), { balance: 100n, held: 60n, available: 40n });
      assert.deepEqual(await bank.getHold(hold.id), hold);
      await rejectsWith(bank.withdraw(a.id, 41n), 'INSUFFICIENT_FUNDS', /has 40 available, cannot debit 41/);
      await rejectsWith(bank.hold({ fromId: a.id, amount: 41n }), 'INSUFFICIENT_FUNDS');
      assert.equal((await bank.history(a.id)).items.length, 1, 'a hold writes no journal row');

      const posted = await bank.postHold(hold.id);
      assert.deepEqual(
        [posted.transfer.kind, posted.transfer.fromId, posted.transfer.toId, posted.transfer.amount, posted.transfer.holdId],
        ['transfer', a.id, b.id, 60n, hold.id],
      );
      assert.deepEqual(await funds(a.id), { balance: 40n, held: 0n, available: 40n });
      assert.deepEqual(await funds(b.id), { balance: 60n, held: 0n, available: 60n });
      const again = await bank.postHold(hold.id);
      assert.deepEqual([again.replayed, again.transfer.id], [true, posted.transfer.id]);
      const other = await bank.postHold(hold.id, { id: randomUUID(), amount: 60n });
      assert.deepEqual([other.replayed, other.transfer.id], [true, posted.transfer.id], 'another id, the same amount: that post');
      await rejectsWith(bank.postHold(hold.id, { amount: 10n }), 'HOLD_NOT_PENDING', /posted for 60/);
      await rejectsWith(bank.voidHold(hold.id), 'HOLD_NOT_PENDING', /posted/);
      const settled = await bank.getHold(hold.id);
      assert.deepEqual([settled.status, settled.postedAmount, settled.transferId], ['posted', 60n, posted.transfer.id]);
      assert.deepEqual(await funds(a.id), { balance: 40n, held: 0n, available: 40n });
    });

    test('a post of less releases the rest; of more is POST_EXCEEDS_HOLD; a hold without destination posts a withdrawal', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const { hold } = await bank.hold({ fromId: a.id, amount: 80n });
      await rejectsWith(bank.postHold(hold.id, { amount: 81n }), 'POST_EXCEEDS_HOLD', /reserves 80, cannot post 81/);
      const posted = await bank.postHold(hold.id, { amount: 30n });
      assert.deepEqual([posted.transfer.kind, posted.transfer.toId, posted.transfer.amount], ['withdrawal', null, 30n]);
      assert.deepEqual(await funds(a.id), { balance: 70n, held: 0n, available: 70n });
    });

    test('a void releases; voiding again replays; posting a voided hold is HOLD_NOT_PENDING; unknown holds are HOLD_NOT_FOUND', async () => {
      const a = await bank.createAccount({ balance: 50n });
      const b = await bank.createAccount();
      const { hold } = await bank.hold({ fromId: a.id, toId: b.id, amount: 50n });
      assert.deepEqual(await funds(a.id), { balance: 50n, held: 50n, available: 0n });
      const voided = await bank.voidHold(hold.id);
      assert.deepEqual([voided.hold.status, voided.replayed], ['voided', false]);
      assert.deepEqual(await funds(a.id), { balance: 50n, held: 0n, available: 50n });
      assert.deepEqual([(await bank.voidHold(hold.id)).replayed, (await bank.getHold(hold.id)).status], [true, 'voided']);
      await rejectsWith(bank.postHold(hold.id), 'HOLD_NOT_PENDING', /voided/);
      await rejectsWith(bank.getHold(randomUUID()), 'HOLD_NOT_FOUND');
      await rejectsWith(bank.postHold(randomUUID()), 'HOLD_NOT_FOUND');
      await rejectsWith(bank.voidHold('nope'), 'INVALID_ARGUMENT');
      assert.deepEqual(await funds(b.id), { balance: 0n, held: 0n, available: 0n });
    });

    test('the hold id is its idempotency key; bad hold requests are INVALID_ARGUMENT and change nothing', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const id = randomUUID();
      const first = await bank.hold({ id, fromId: a.id, amount: 10n, expiresInMs: 60_000 });
      const again = await bank.hold({ id, fromId: a.id, amount: 10n, expiresInMs: 60_000 });
      assert.deepEqual([again.replayed, again.hold], [true, first.hold]);
      await rejectsWith(
        bank.hold({ id, fromId: a.id, amount: 11n, expiresInMs: 60_000 }),
        'IDEMPOTENCY_CONFLICT',
        /amount 10, not 11/,
      );
      await rejectsWith(bank.hold({ id, fromId: a.id, amount: 10n }), 'IDEMPOTENCY_CONFLICT', /expiry 60000 ms, not none/);
      for (const bad of [
        { fromId: a.id, amount: 0n },
        { fromId: a.id, amount: 5n, expiresInMs: 0 },
        { fromId: a.id, amount: 5n, expiresInMs: 1.5 },
        { fromId: a.id, toId: a.id, amount: 5n },
        { toId: a.id, amount: 5n } as never,
      ]) {
        await rejectsWith(bank.hold(bad), 'INVALID_ARGUMENT');
      }
      await rejectsWith(bank.hold({ fromId: randomUUID(), amount: 5n }), 'ACCOUNT_NOT_FOUND');
      assert.deepEqual(await funds(a.id), { balance: 100n, held: 10n, available: 90n });
      const page = await bank.holds(a.id);
      assert.deepEqual(
        page.items.map((h) => h.id),
        [id],
      );
      await rejectsWith(bank.holds(randomUUID()), 'ACCOUNT_NOT_FOUND');
    });

    test('a hold of all an account has, beside its expired holds no sweep has tidied: placed, not BALANCE_LIMIT', async () => {
      const max = 2n ** 63n - 1n;
      const a = await bank.createAccount({ balance: max });
      const lapsed = (await bank.hold({ fromId: a.id, amount: 5n, expiresInMs: 1 })).hold;
      await sleep(20);
      const { hold } = await bank.hold({ fromId: a.id, amount: max });
      assert.equal(hold.status, 'pending');
      assert.deepEqual(await funds(a.id), { balance: max, held: max, available: 0n });
      assert.equal((await bank.getHold(lapsed.id)).status, 'expired');
      assert.equal(await bank.releaseExpiredHolds(), 0, 'placing the hold tidied the expired one');
      await bank.voidHold(hold.id);
    });

    test('from the moment a hold expires it counts for nothing: no sweep needed; posting it is HOLD_EXPIRED', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const { hold } = await bank.hold({ fromId: a.id, toId: b.id, amount: 70n, expiresInMs: 150 });
      assert.equal(hold.expiresAt!.getTime() - hold.createdAt.getTime(), 150);
      assert.deepEqual(await funds(a.id), { balance: 100n, held: 70n, available: 30n });
      await sleep(250);
      assert.deepEqual(await funds(a.id), { balance: 100n, held: 0n, available: 100n });
      assert.equal((await bank.getHold(hold.id)).status, 'expired');
      await rejectsWith(bank.postHold(hold.id), 'HOLD_EXPIRED');
      await rejectsWith(bank.voidHold(hold.id), 'HOLD_EXPIRED');
      // Its money is free for any debit before a sweep has run.
      await bank.transfer({ fromId: a.id, toId: b.id, amount: 100n });
      assert.equal(await bank.releaseExpiredHolds(), 1);
      assert.equal(await bank.releaseExpiredHolds(), 0);
      assert.equal((await bank.getHold(hold.id)).status, 'expired');
      assert.deepEqual(await funds(a.id), { balance: 0n, held: 0n, available: 0n });
    });

    test('64 concurrent holds of 100 on an account that can afford 10 of them: exactly 10 pending', async () => {
      const a = await bank.createAccount({ balance: 1000n });
      const results = await Promise.allSettled(Array.from({ length: 64 }, () => bank.hold({ fromId: a.id, amount: 100n })));
      const codes = results.map(codeOf);
      assert.equal(codes.filter((c) => c === 'ok').length, 10);
      assert.equal(codes.filter((c) => c === 'INSUFFICIENT_FUNDS').length, 54);
      assert.deepEqual(await funds(a.id), { balance: 1000n, held: 1000n, available: 0n });
    });

    test('50 concurrent posts of one hold: one movement, 49 replays', async () => {
      const a = await bank.createAccount({ balance: 500n });
      const b = await bank.createAccount();
      const { hold } = await bank.hold({ fromId: a.id, toId: b.id, amount: 500n });
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => bank.postHold(hold.id)));
      assert.equal(outcomes.filter((o) => !o.replayed).length, 1);
      assert.equal(new Set(outcomes.map((o) => o.transfer.id)).size, 1);
      assert.deepEqual(await funds(b.id), { balance: 500n, held: 0n, available: 500n });
      assert.equal((await bank.history(a.id)).items.length, 2, 'the opening deposit and one post');
    });

    test('a post racing its void, 20 times: exactly one wins, the other is HOLD_NOT_PENDING', async () => {
      const a = await bank.createAccount({ balance: 20n });
      const b = await bank.createAccount();
      for (let i = 0; i < 20; i++) {
        const { hold } = await bank.hold({ fromId: a.id, toId: b.id, amount: 1n });
        const [post, voided] = await Promise.allSettled([bank.postHold(hold.id), bank.voidHold(hold.id)]);
        const codes = [codeOf(post), codeOf(voided)].sort();
        assert.deepEqual(codes, ['HOLD_NOT_PENDING', 'ok'], `round ${i}`);
        assert.equal((await bank.getHold(hold.id)).status, post.status === 'fulfilled' ? 'posted' : 'voided');
      }
      const { balance } = await bank.getAccount(b.id);
      assert.equal((await bank.getAccount(a.id)).balance + balance, 20n);
    });

    test('a hold expiring while posts are in flight: each is posted before expiry or HOLD_EXPIRED, never both', async () => {
      const a = await bank.createAccount({ balance: 1000n });
      const b = await bank.createAccount();
      const holds = await Promise.all(
        Array.from({ length: 10 }, (_, i) => bank.hold({ fromId: a.id, toId: b.id, amount: 100n, expiresInMs: 20 + i * 5 })),
      );
      await sleep(30);
      const posts = await Promise.allSettled(holds.map(({ hold }) => bank.postHold(hold.id)));
      for (const [i, post] of posts.entries()) {
        const { status } = await bank.getHold(holds[i]!.hold.id);
        if (post.status === 'fulfilled') assert.equal(status, 'posted');
        else assert.deepEqual([codeOf(post), status], ['HOLD_EXPIRED', 'expired']);
      }
      const posted = posts.filter((p) => p.status === 'fulfilled').length;
      assert.deepEqual(await funds(b.id), { balance: BigInt(posted) * 100n, held: 0n, available: BigInt(posted) * 100n });
      assert.deepEqual(await funds(a.id), {
        balance: 1000n - BigInt(posted) * 100n,
        held: 0n,
        available: 1000n - BigInt(posted) * 100n,
      });
    });

    test('an atomic group applies every item or none: a split payment, and one failing at its last item', async () => {
      const buyer = await bank.createAccount({ balance: 100n });
      const seller = await bank.createAccount();
      const fees = await bank.createAccount();
      const split = await bank.transferMany(
        [
          { fromId: buyer.id, toId: seller.id, amount: 97n },
          { fromId: buyer.id, toId: fees.id, amount: 3n },
        ],
        { atomic: true },
      );
      assert.deepEqual(split.map(codeOf), ['ok', 'ok']);
      assert.deepEqual(await bank.balances([buyer.id, seller.id, fees.id]), [0n, 97n, 3n]);

      // Item i sees the items before it; the last one overdraws, so nothing happens.
      const failing = await bank.transferMany(
        [
          { fromId: seller.id, toId: buyer.id, amount: 50n },
          { kind: 'hold', fromId: buyer.id, amount: 50n },
          { fromId: fees.id, toId: buyer.id, amount: 3n },
          { fromId: seller.id, toId: fees.id, amount: 48n },
        ],
        { atomic: true },
      );
      assert.deepEqual(failing.map(codeOf), ['GROUP_FAILED', 'GROUP_FAILED', 'GROUP_FAILED', 'INSUFFICIENT_FUNDS']);
      assert.match((failing[0] as { error: Error }).error.message, /item 4 of 4 failed \(INSUFFICIENT_FUNDS\)/);
      assert.deepEqual(await bank.balances([buyer.id, seller.id, fees.id]), [0n, 97n, 3n]);
      assert.deepEqual(await funds(buyer.id), { balance: 0n, held: 0n, available: 0n });

      // The same group, fitting: all of it, the hold included, each item seeing the ones before.
      const ids = Array.from({ length: 4 }, () => randomUUID());
      const items = [
        { id: ids[0], fromId: seller.id, toId: buyer.id, amount: 50n },
        { kind: 'hold' as const, id: ids[1], fromId: buyer.id, amount: 50n },
        { id: ids[2], fromId: fees.id, toId: buyer.id, amount: 3n },
        { id: ids[3], fromId: seller.id, toId: fees.id, amount: 47n },
      ];
      const applied = await bank.transferMany(items, { atomic: true });
      assert.deepEqual(applied.map(codeOf), ['ok', 'ok', 'ok', 'ok']);
      assert.deepEqual(await funds(buyer.id), { balance: 53n, held: 50n, available: 3n });
      const replayed = await bank.transferMany(items, { atomic: true });
      assert.deepEqual(
        replayed.map((r) => r.ok && r.outcome.replayed),
        [true, true, true, true],
      );
      assert.deepEqual(await bank.balances([buyer.id, seller.id, fees.id]), [53n, 0n, 47n]);

      // A malformed item sends nothing.
      const malformed = await bank.transferMany([{ fromId: buyer.id, toId: seller.id, amount: 1n }, { amount: 1n } as never], {
        atomic: true,
      });
      assert.deepEqual(malformed.map(codeOf), ['GROUP_FAILED', 'INVALID_ARGUMENT']);
      assert.deepEqual(await bank.balances([buyer.id, seller.id]), [53n, 0n]);
    });

    test('atomic groups over the same accounts in crossing orders, 24 at once: no deadlock, no retry, all applied', async () => {
      let retries = 0;
      const counted = await loadBank(db.pool, flavor, { ...(batch ? {} : { batch: false }), onRetry: () => retries++ });
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => counted.createAccount({ balance: 1000n })));
      retries = 0; // opening accounts at SERIALIZABLE may retry; only the groups' retries count
      const legs = [
        [a!.id, b!.id, c!.id],
        [c!.id, b!.id, a!.id],
        [b!.id, a!.id, c!.id],
      ];
      const groups = Array.from({ length: 24 }, (_, i) => {
        const [x, y, z] = legs[i % 3]!;
        return counted.transferMany(
          [
            { fromId: x!, toId: y!, amount: 1n },
            { fromId: y!, toId: z!, amount: 1n },
            { fromId: x!, toId: z!, amount: 1n },
          ],
          { atomic: true },
        );
      });
      const results = (await Promise.all(groups)).flat();
      assert.deepEqual(new Set(results.map(codeOf)), new Set(['ok']));
      assert.equal(retries, 0, 'a deadlock (40P01) would have been retried');
      const balances = await counted.balances([a!.id, b!.id, c!.id]);
      assert.equal(
        balances.reduce((sum, x) => sum + x, 0n),
        3000n,
      );
    });

    test('an atomic group whose item overflows INT8 names that item with BALANCE_LIMIT', async () => {
      const a = await bank.createAccount({ balance: 9_223_372_036_854_775_000n });
      const b = await bank.createAccount({ balance: 10n });
      const results = await bank.transferMany(
        [
          { fromId: b.id, amount: 1n },
          { toId: a.id, amount: 1000n },
        ],
        { atomic: true },
      );
      assert.deepEqual(results.map(codeOf), ['GROUP_FAILED', 'BALANCE_LIMIT']);
      assert.deepEqual(await bank.balances([a.id, b.id]), [9_223_372_036_854_775_000n, 10n]);
    });

    test('reversals move money back, never more than the original, idempotent by id', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const { transfer } = await bank.transfer({ fromId: a.id, toId: b.id, amount: 80n });
      const id = randomUUID();
      const part = await bank.reverse(transfer.id, { id, amount: 30n });
      assert.deepEqual(
        [part.transfer.kind, part.transfer.fromId, part.transfer.toId, part.transfer.amount, part.transfer.reversalOf],
        ['transfer', b.id, a.id, 30n, transfer.id],
      );
      assert.equal((await bank.reverse(transfer.id, { id, amount: 30n })).replayed, true);
      await rejectsWith(bank.reverse(transfer.id, { id, amount: 31n }), 'IDEMPOTENCY_CONFLICT');
      assert.equal((await bank.getTransfer(transfer.id)).reversed, 30n);
      await rejectsWith(bank.reverse(transfer.id, { amount: 51n }), 'REVERSAL_EXCEEDS_ORIGINAL', /50 left to reverse/);
      const rest = await bank.reverse(transfer.id);
      assert.equal(rest.transfer.amount, 50n);
      assert.equal((await bank.getTransfer(transfer.id)).reversed, 80n);
      await rejectsWith(bank.reverse(transfer.id), 'REVERSAL_EXCEEDS_ORIGINAL', /nothing left/);
      assert.equal((await bank.reverse(transfer.id, { id: rest.transfer.id })).replayed, true, 'what is left, replayed by id');
      assert.deepEqual(await bank.balances([a.id, b.id]), [100n, 0n]);
      await rejectsWith(bank.reverse(randomUUID()), 'TRANSFER_NOT_FOUND');

      // A deposit's reversal is a withdrawal, and the destination must hold the money.
      const deposit = await bank.deposit(b.id, 20n);
      await bank.withdraw(b.id, 15n);
      await rejectsWith(bank.reverse(deposit.transfer.id), 'INSUFFICIENT_FUNDS', /has 5 available, cannot debit 20/);
      const back = await bank.reverse(deposit.transfer.id, { amount: 5n });
      assert.deepEqual([back.transfer.kind, back.transfer.fromId, back.transfer.toId], ['withdrawal', b.id, null]);
    });

    test('20 concurrent reversals of 10 against a movement of 100: exactly 10 happen, the total never exceeds it', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const { transfer } = await bank.transfer({ fromId: a.id, toId: b.id, amount: 100n });
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => bank.reverse(transfer.id, { amount: 10n })));
      const codes = results.map(codeOf);
      const said = results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)));
      assert.equal(codes.filter((c) => c === 'ok').length, 10, said.join('\n'));
      assert.equal(codes.filter((c) => c === 'REVERSAL_EXCEEDS_ORIGINAL').length, 10);
      assert.equal((await bank.getTransfer(transfer.id)).reversed, 100n);
      assert.deepEqual(await bank.balances([a.id, b.id]), [100n, 0n]);
    });
  });
}
