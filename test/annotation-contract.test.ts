// References and metadata: the Bank contract for them, on both flavors and both pg paths.
// What is attached reads back as it was sent, is part of the body idempotency compares
// (metadata by value, its keys' order aside), is found by reference a page at a time,
// and bad input is refused before anything is written.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Bank, MovementOutcome } from '../packages/roachbank/src/bank/bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import type { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { bankVariants } from './support/bank-variants.js';
import { rejectsWith } from './support/rejects-with.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

for (const { flavor, batch, name } of bankVariants) {
  describe(`references and metadata (${name})`, () => {
    let db: TestDatabase;
    let bank: Bank;
    const rowCount = async () =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            'SELECT (SELECT count(*) FROM roachbank.transfers) + (SELECT count(*) FROM roachbank.holds) + (SELECT count(*) FROM roachbank.accounts) AS n',
          )
        ).rows[0]!.n,
      );
    before(async () => {
      db = await createTestDatabase(`annotation_${flavor}_${batch ? 'batched' : 'single'}`, { max: 16 });
      await ensureSchema(db.pool);
      bank = await loadBank(db.pool, flavor, batch ? {} : { batch: false });
    });
    afterEach(async () => assert.ok((await bank.verify()).ok));
    after(() => db.drop());

    test('an account keeps its reference and metadata; the same again replays, another is IDEMPOTENCY_CONFLICT', async () => {
      const reference = `customer-${randomUUID()}`;
      const metadata = { tier: 'gold', limits: { daily: 500 }, tags: ['b2b', null] };
      const opened = await bank.createAccount({ balance: 10n, reference, metadata });
      assert.deepEqual([opened.reference, opened.metadata], [reference, metadata]);
      const read = await bank.getAccount(opened.id);
      assert.deepEqual([read.reference, read.metadata], [reference, metadata]);
      assert.deepEqual(Object.keys(read.metadata!), ['tier', 'limits', 'tags'], 'keys read back in the order sent');
      const [opening] = (await bank.history(opened.id)).items;
      assert.deepEqual([opening!.reference, opening!.metadata], [null, null], 'the opening deposit carries none');
      // Metadata is compared by value: the same keys in another order are the same request.
      const again = { tags: ['b2b', null], limits: { daily: 500 }, tier: 'gold' };
      const replay = await bank.openAccount({ id: opened.id, balance: 10n, reference, metadata: again });
      assert.equal(replay.replayed, true);
      await rejectsWith(
        bank.openAccount({ id: opened.id, balance: 10n, reference: 'other', metadata }),
        'IDEMPOTENCY_CONFLICT',
        /reference "customer-.*", not "other"/,
      );
      await rejectsWith(
        bank.openAccount({ id: opened.id, balance: 10n, reference, metadata: { tier: 'silver' } }),
        'IDEMPOTENCY_CONFLICT',
        /other metadata/,
      );
      await rejectsWith(
        bank.openAccount({ id: opened.id, balance: 10n }),
        'IDEMPOTENCY_CONFLICT',
        /reference "customer-.*", not none/,
      );
      const plain = await bank.createAccount();
      assert.deepEqual([plain.reference, plain.metadata], [null, null]);
    });

    test('every kind of movement carries its reference and metadata; a post and a reversal inherit the reference', async () => {
      const order = `order-${randomUUID()}`;
      const a = await bank.createAccount({ balance: 1000n });
      const b = await bank.createAccount();
      const metadata = { channel: 'web', amountShown: '1.00' };
      const moved = await bank.transfer({ fromId: a.id, toId: b.id, amount: 100n, reference: order, metadata });
      assert.deepEqual([moved.transfer.reference, moved.transfer.metadata], [order, metadata]);
      const deposit = await bank.deposit(a.id, 5n, { reference: order });
      const withdrawal = await bank.withdraw(a.id, 5n, { metadata: { atm: 7 } });
      assert.deepEqual([withdrawal.transfer.reference, withdrawal.transfer.metadata], [null, { atm: 7 }]);
      const [fromMany] = await bank.transferMany([
        { fromId: a.id, toId: b.id, amount: 1n, reference: order, metadata: { line: 1 } },
        { fromId: b.id, toId: a.id, amount: 1n },
      ]);
      assert.ok(fromMany!.ok);
      const hold = await bank.hold({ fromId: a.id, toId: b.id, amount: 50n, reference: order, metadata: { auth: 'x1' } });
      assert.deepEqual([hold.hold.reference, hold.hold.metadata], [order, { auth: 'x1' }]);
      assert.deepEqual((await bank.getHold(hold.hold.id)).metadata, { auth: 'x1' });
      const post = await bank.postHold(hold.hold.id, { amount: 30n });
      assert.deepEqual([post.transfer.reference, post.transfer.metadata], [order, null], 'a post takes its hold’s reference');
      const refund = await bank.reverse(moved.transfer.id, { amount: 40n, metadata: { reason: 'damaged' } });
      assert.deepEqual([refund.transfer.reference, refund.transfer.metadata], [order, { reason: 'damaged' }]);
      const own = await bank.reverse(moved.transfer.id, { amount: 10n, reference: 'refund-2' });
      assert.equal(own.transfer.reference, 'refund-2');
      // What was written is what every read shows.
      const detail = await bank.getTransfer(moved.transfer.id);
      assert.deepEqual([detail.reference, detail.metadata], [order, metadata]);
      const history = (await bank.history(b.id)).items.find((row) => row.id === moved.transfer.id)!;
      assert.deepEqual([history.reference, history.metadata], [order, metadata]);

      const found: MovementOutcome['transfer'][] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await bank.findTransfers({ reference: order, page: { limit: 2, ...(cursor ? { cursor } : {}) } });
        found.push(...page.items);
        cursor = page.next ?? undefined;
        pages++;
      } while (cursor);
      const ids = [
        moved,
        deposit,
        { transfer: { id: (fromMany as { ok: true; outcome: MovementOutcome }).outcome.transfer.id } },
        post,
        refund,
      ].map((o) => o.transfer.id);
      assert.deepEqual(
        found.map((row) => row.id),
        ids,
        'oldest first, each once',
      );
      assert.equal(pages, 3);
      assert.ok(found.every((row) => row.reference === order));
      assert.deepEqual(await bank.findTransfers({ reference: 'nothing-has-this' }), { items: [], next: null });
    });

    test('a movement or hold under the same id with another reference or metadata is IDEMPOTENCY_CONFLICT and writes nothing', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const id = randomUUID();
      await bank.transfer({ id, fromId: a.id, toId: b.id, amount: 10n, reference: 'r1', metadata: { x: 1, y: [1, 2] } });
      const rows = await rowCount();
      const replay = await bank.transfer({
        id,
        fromId: a.id,
        toId: b.id,
        amount: 10n,
        reference: 'r1',
        metadata: { y: [1, 2], x: 1 },
      });
      assert.equal(replay.replayed, true);
      await rejectsWith(
        bank.transfer({ id, fromId: a.id, toId: b.id, amount: 10n, reference: 'r2', metadata: { x: 1, y: [1, 2] } }),
        'IDEMPOTENCY_CONFLICT',
        /reference "r1", not "r2"/,
      );
      await rejectsWith(
        bank.transfer({ id, fromId: a.id, toId: b.id, amount: 10n, reference: 'r1', metadata: { x: 1, y: [2, 1] } }),
        'IDEMPOTENCY_CONFLICT',
        /other metadata/,
      );
      await rejectsWith(bank.transfer({ id, fromId: a.id, toId: b.id, amount: 10n }), 'IDEMPOTENCY_CONFLICT', /not none/);
      const holdId = randomUUID();
      await bank.hold({ id: holdId, fromId: a.id, amount: 5n, reference: 'h1' });
      assert.equal((await bank.hold({ id: holdId, fromId: a.id, amount: 5n, reference: 'h1' })).replayed, true);
      await rejectsWith(
        bank.hold({ id: holdId, fromId: a.id, amount: 5n, reference: 'h2' }),
        'IDEMPOTENCY_CONFLICT',
        /"h1", not "h2"/,
      );
      assert.equal(await rowCount(), rows + 1, 'only the hold was written');
      assert.deepEqual([(await bank.getAccount(a.id)).balance, (await bank.getAccount(b.id)).balance], [90n, 10n]);
    });

    test('twins under one id, half with another reference, at once: one applies, each other is a replay or a conflict as its reference says', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const id = randomUUID();
      const settled = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) =>
          bank.transfer({ id, fromId: a.id, toId: b.id, amount: 7n, reference: i % 2 === 0 ? 'even' : 'odd' }),
        ),
      );
      const winner = (await bank.getTransfer(id)).reference;
      const outcomes = settled.map((s, i) => {
        const mine = i % 2 === 0 ? 'even' : 'odd';
        if (s.status === 'rejected') return `${mine === winner ? 'same' : 'other'}:${(s.reason as RoachbankError).code}`;
        return `${mine === winner ? 'same' : 'other'}:${s.value.replayed ? 'replayed' : 'applied'}`;
      });
      assert.deepEqual([...new Set(outcomes)].sort(), ['other:IDEMPOTENCY_CONFLICT', 'same:applied', 'same:replayed']);
      assert.equal(outcomes.filter((o) => o === 'same:applied').length, 1);
      assert.deepEqual(await bank.balances([a.id, b.id]), [93n, 7n]);
    });

    test('bad references and metadata are INVALID_ARGUMENT and write nothing; the limits themselves are accepted', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const rows = await rowCount();
      const bad: [unknown, unknown, RegExp][] = [
        ['', undefined, /reference must be 1 to 128 characters, got 0/],
        ['x'.repeat(129), undefined, /1 to 128 characters, got 129/],
        ['line\nbreak', undefined, /no control characters/],
        ['nul\u0000', undefined, /no control characters/],
        ['\ud800', undefined, /unpaired surrogates/],
        [42, undefined, /reference must be a string, got number/],
        [undefined, ['a'], /metadata must be a JSON object, got an array/],
        [undefined, 'text', /metadata must be a JSON object, got string/],
        [undefined, { big: 1n }, /metadata must be plain JSON/],
        [undefined, { at: new Date(0) }, /metadata must be plain JSON/],
        [undefined, { gone: undefined }, /metadata must be plain JSON/],
        [undefined, { holes: new Array(2) }, /metadata must be plain JSON/],
        [undefined, { nan: Number.NaN }, /metadata must be plain JSON/],
        [undefined, { instance: new URL('https://example.com') }, /metadata must be plain JSON/],
        [undefined, { pad: 'x'.repeat(4090) }, /at most 4096 bytes as JSON, got 4100/],
      ];
      for (const [reference, metadata, message] of bad) {
        const annotation = { reference, metadata } as never;
        await rejectsWith(
          bank.transfer({ fromId: a.id, toId: randomUUID(), amount: 1n, ...(annotation as object) }),
          'INVALID_ARGUMENT',
          message,
        );
        await rejectsWith(bank.createAccount({ ...(annotation as object) }), 'INVALID_ARGUMENT', message);
        await rejectsWith(bank.hold({ fromId: a.id, amount: 1n, ...(annotation as object) }), 'INVALID_ARGUMENT', message);
        await rejectsWith(bank.deposit(a.id, 1n, annotation), 'INVALID_ARGUMENT', message);
      }
      await rejectsWith(bank.findTransfers({ reference: '' }), 'INVALID_ARGUMENT', /1 to 128/);
      await rejectsWith(bank.findAccounts({} as never), 'INVALID_ARGUMENT', /reference is required/);
      assert.equal(await rowCount(), rows, 'nothing was written');
      // 128 characters of four bytes each (the database counts characters), and metadata of exactly 4096 bytes.
      const longest = '🏦'.repeat(128);
      const widest = { pad: 'é'.repeat(2043) }; // {"pad":"…"}: 10 bytes, and 2 per é
      // JSON has one zero: −0 is taken, and read back as 0.
      assert.deepEqual((await bank.createAccount({ metadata: { zero: -0 } })).metadata, { zero: 0 });
      const account = await bank.createAccount({ reference: longest, metadata: widest });
      assert.deepEqual([account.reference, account.metadata], [longest, widest]);
      assert.deepEqual(
        (await bank.findAccounts({ reference: longest })).items.map((found) => found.id),
        [account.id],
      );
    });

    test('findAccounts pages the accounts of one reference, oldest first', async () => {
      const reference = `batch-${randomUUID()}`;
      const opened = [];
      for (let i = 0; i < 5; i++) opened.push((await bank.createAccount({ reference })).id);
      await bank.createAccount({ reference: `${reference}-other` });
      const first = await bank.findAccounts({ reference, page: { limit: 3 } });
      const second = await bank.findAccounts({ reference, page: { limit: 3, cursor: first.next! } });
      assert.deepEqual(
        [...first.items, ...second.items].map((account) => account.id),
        opened,
      );
      assert.equal(second.next, null);
    });
  });
}
