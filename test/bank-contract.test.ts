import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Bank, Flavor } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { openingIdOf } from '../packages/roachbank/src/bank/ids.js';
import { maxMoney } from '../packages/roachbank/src/bank/money.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import type { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { rejectsWith } from './support/rejects-with.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startWireProxy } from './support/wire-proxy.js';

// pg moves money in batches by default (group commit) and, with batch: false, one statement
// per movement; either runs as a prepared statement on READ COMMITTED sessions (roachbank's
// own pools) and as a BEGIN … COMMIT batch on any other. Every path keeps the contract.
const variants = [
  { flavor: 'pg', sessions: 'server default', batch: true, name: 'pg, batched' },
  { flavor: 'pg', sessions: 'read committed', batch: true, name: 'pg, batched, read committed sessions' },
  { flavor: 'pg', sessions: 'server default', batch: false, name: 'pg, single statements' },
  { flavor: 'pg', sessions: 'read committed', batch: false, name: 'pg, single statements, read committed sessions' },
  { flavor: 'orm', sessions: 'server default', batch: false, name: 'orm' },
] as const satisfies readonly { flavor: Flavor; sessions: string; batch: boolean; name: string }[];

for (const { flavor, sessions, batch, name } of variants) {
  describe(`the Bank contract (${name})`, () => {
    let db: TestDatabase;
    let bank: Bank;
    const poolOptions = sessions === 'read committed' ? { statementIsolation: 'read committed' as const } : {};
    const bankOptions = batch ? {} : { batch: false as const };
    before(async () => {
      db = await createTestDatabase(`bank_${flavor}`, { max: 16, ...poolOptions });
      await ensureSchema(db.pool);
      bank = await loadBank(db.pool, flavor, bankOptions);
    });
    afterEach(async () => {
      const report = await bank.verify();
      assert.ok(report.ok, `verify after the test: ${JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}`);
    });
    after(() => db.drop());

    test('balances reads many accounts in one snapshot, in the order asked', async () => {
      const a = await bank.createAccount({ balance: 5n });
      const b = await bank.createAccount({ balance: 7n });
      assert.deepEqual(await bank.balances([b.id, a.id, b.id]), [7n, 5n, 7n]);
      assert.deepEqual(await bank.balances([]), []);
      await rejectsWith(bank.balances([a.id, randomUUID()]), 'ACCOUNT_NOT_FOUND');
      await rejectsWith(bank.balances(['x']), 'INVALID_ARGUMENT');
    });

    test('opens accounts, journaling an opening balance as money entering', async () => {
      const empty = await bank.createAccount();
      const funded = await bank.createAccount({ balance: 1000n });
      assert.equal(empty.balance, 0n);
      assert.equal(funded.balance, 1000n);
      assert.equal(funded.closedAt, null);
      assert.deepEqual(await bank.getAccount(funded.id), funded);
      const { items } = await bank.history(funded.id);
      assert.equal(items.length, 1);
      assert.deepEqual([items[0]!.fromId, items[0]!.toId, items[0]!.amount], [null, funded.id, 1000n]);
      assert.deepEqual((await bank.history(empty.id)).items, []);
      await rejectsWith(bank.createAccount({ balance: -1n }), 'INVALID_ARGUMENT');
    });

    test('deposits, withdraws and transfers; history newest first', async () => {
      const a = await bank.createAccount({ balance: 500n });
      const b = await bank.createAccount();
      const deposit = await bank.deposit(a.id, 250n);
      const withdrawal = await bank.withdraw(a.id, 50n);
      const transfer = await bank.transfer({ fromId: a.id, toId: b.id, amount: 300n });
      assert.deepEqual([deposit.replayed, withdrawal.replayed, transfer.replayed], [false, false, false]);
      assert.deepEqual([deposit.transfer.fromId, deposit.transfer.toId], [null, a.id]);
      assert.deepEqual([withdrawal.transfer.fromId, withdrawal.transfer.toId], [a.id, null]);
      assert.equal((await bank.getAccount(a.id)).balance, 400n);
      assert.equal((await bank.getAccount(b.id)).balance, 300n);
      const ids = (await bank.history(a.id)).items.map((t) => t.id);
      assert.deepEqual(ids.slice(0, 3), [transfer.transfer.id, withdrawal.transfer.id, deposit.transfer.id]);
      assert.deepEqual(await bank.getTransfer(transfer.transfer.id), { ...transfer.transfer, reversed: 0n });
      await rejectsWith(bank.getTransfer(randomUUID()), 'TRANSFER_NOT_FOUND');
    });

    test('a replay with the same body returns the original and moves nothing; another body is IDEMPOTENCY_CONFLICT', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const id = randomUUID();
      const first = await bank.transfer({ id, fromId: a.id, toId: b.id, amount: 60n });
      const again = await bank.transfer({ id, fromId: a.id, toId: b.id, amount: 60n });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.transfer, first.transfer);
      assert.equal((await bank.getAccount(a.id)).balance, 40n);
      await rejectsWith(
        bank.transfer({ id, fromId: a.id, toId: b.id, amount: 61n }),
        'IDEMPOTENCY_CONFLICT',
        /amount 60, not 61/,
      );
      await rejectsWith(
        bank.transfer({ id, fromId: b.id, toId: a.id, amount: 60n }),
        'IDEMPOTENCY_CONFLICT',
        /source .* destination/,
      );
      await rejectsWith(bank.deposit(b.id, 60n, { id }), 'IDEMPOTENCY_CONFLICT', /it was a transfer, not a deposit/);
      const depositId = randomUUID();
      await bank.deposit(b.id, 5n, { id: depositId });
      assert.equal((await bank.deposit(b.id, 5n, { id: depositId })).replayed, true);
      await rejectsWith(bank.withdraw(b.id, 5n, { id: depositId }), 'IDEMPOTENCY_CONFLICT');
      assert.equal((await bank.getAccount(b.id)).balance, 65n);
    });

    test('a failed transfer leaves no trace: its id may succeed later', async () => {
      const a = await bank.createAccount({ balance: 10n });
      const b = await bank.createAccount();
      const id = randomUUID();
      await rejectsWith(
        bank.transfer({ id, fromId: a.id, toId: b.id, amount: 50n }),
        'INSUFFICIENT_FUNDS',
        /has 10 available, cannot debit 50/,
      );
      await rejectsWith(bank.getTransfer(id), 'TRANSFER_NOT_FOUND');
      await bank.deposit(a.id, 40n);
      const later = await bank.transfer({ id, fromId: a.id, toId: b.id, amount: 50n });
      assert.equal(later.replayed, false);
      assert.equal((await bank.getAccount(a.id)).balance, 0n);
    });

    test('refuses what it must: unknown, closed or identical accounts, bad amounts and ids, overflows', async () => {
      const a = await bank.createAccount({ balance: 10n });
      const b = await bank.createAccount();
      const nobody = randomUUID();
      await rejectsWith(bank.transfer({ fromId: a.id, toId: nobody, amount: 1n }), 'ACCOUNT_NOT_FOUND', new RegExp(nobody));
      await rejectsWith(bank.transfer({ fromId: nobody, toId: a.id, amount: 1n }), 'ACCOUNT_NOT_FOUND');
      await rejectsWith(bank.deposit(nobody, 1n), 'ACCOUNT_NOT_FOUND');
      await rejectsWith(bank.getAccount(nobody), 'ACCOUNT_NOT_FOUND');
      await rejectsWith(bank.history(nobody), 'ACCOUNT_NOT_FOUND');
      await rejectsWith(bank.transfer({ fromId: a.id, toId: a.id, amount: 1n }), 'INVALID_ARGUMENT', /different accounts/);
      for (const amount of [0n, -5n, maxMoney + 1n]) await rejectsWith(bank.deposit(a.id, amount), 'INVALID_ARGUMENT');
      await rejectsWith(bank.getAccount('not-a-uuid'), 'INVALID_ARGUMENT');
      await rejectsWith(bank.transfer({ id: 'nope', fromId: a.id, toId: b.id, amount: 1n }), 'INVALID_ARGUMENT');
      await bank.deposit(b.id, maxMoney);
      await rejectsWith(bank.deposit(b.id, 1n), 'BALANCE_LIMIT', /exceed/);
      await rejectsWith(bank.transfer({ fromId: a.id, toId: b.id, amount: 1n }), 'BALANCE_LIMIT', /exceed/);
      assert.equal((await bank.getAccount(a.id)).balance, 10n);
      assert.equal((await bank.getAccount(b.id)).balance, maxMoney);
      await bank.withdraw(b.id, maxMoney); // leave the bank summable for the next tests
    });

    test('closes only empty accounts; a closed account keeps its history and takes no money', async () => {
      const a = await bank.createAccount({ balance: 5n });
      await rejectsWith(bank.closeAccount(a.id), 'ACCOUNT_NOT_EMPTY', /holds 5/);
      await bank.withdraw(a.id, 5n);
      const closed = await bank.closeAccount(a.id);
      assert.ok(closed.closedAt instanceof Date);
      assert.deepEqual(await bank.closeAccount(a.id), closed, 'closing again returns it as it is');
      assert.deepEqual(await bank.getAccount(a.id), closed);
      assert.equal((await bank.history(a.id)).items.length, 2);
      await rejectsWith(bank.deposit(a.id, 1n), 'ACCOUNT_NOT_FOUND', /no open account/);
      await rejectsWith(bank.closeAccount(randomUUID()), 'ACCOUNT_NOT_FOUND');
    });

    test('createAccount with an id is idempotent: same opening balance, same account; another, IDEMPOTENCY_CONFLICT', async () => {
      const id = randomUUID();
      const first = await bank.createAccount({ id, balance: 40n });
      assert.deepEqual(await bank.createAccount({ id, balance: 40n }), first);
      await rejectsWith(bank.createAccount({ id, balance: 41n }), 'IDEMPOTENCY_CONFLICT', /opening balance: 40, not 41/);
      await rejectsWith(bank.createAccount({ id }), 'IDEMPOTENCY_CONFLICT');
      const empty = await bank.createAccount({ id: randomUUID() });
      assert.deepEqual(await bank.createAccount({ id: empty.id }), empty);
      assert.equal((await bank.history(first.id)).items.length, 1, 'one opening deposit');
      await rejectsWith(bank.createAccount({ id: 'nope' }), 'INVALID_ARGUMENT');
    });

    test('openAccount says whether it replayed', async () => {
      const id = randomUUID();
      const first = await bank.openAccount({ id, balance: 3n });
      assert.equal(first.replayed, false);
      assert.deepEqual(await bank.openAccount({ id, balance: 3n }), { account: first.account, replayed: true });
    });

    test('derived opening ids cannot be forged: only opening an account writes the row it takes for its own', async () => {
      const other = await bank.createAccount();
      // Not yet opened: a movement into another account under its opening id blocks nothing silently.
      const future = randomUUID();
      await bank.deposit(other.id, 5n, { id: openingIdOf(future) });
      await rejectsWith(bank.createAccount({ id: future, balance: 100n }), 'IDEMPOTENCY_CONFLICT', /opening deposit .* is taken/);
      await rejectsWith(bank.getAccount(future), 'ACCOUNT_NOT_FOUND', undefined);
      // With no opening balance there is no opening row to take: it opens, and replays as itself.
      const opened = await bank.createAccount({ id: future });
      assert.deepEqual(await bank.openAccount({ id: future }), { account: opened, replayed: true });
      await rejectsWith(bank.createAccount({ id: future, balance: 5n }), 'IDEMPOTENCY_CONFLICT', /opening balance: 0, not 5/);
      // A movement of the account itself under its opening id would be its opening: refused, nothing moves.
      await rejectsWith(
        bank.deposit(future, 5n, { id: openingIdOf(future) }),
        'IDEMPOTENCY_CONFLICT',
        /reserved for the opening/,
      );
      await rejectsWith(
        bank.transfer({ id: openingIdOf(other.id), fromId: other.id, toId: future, amount: 1n }),
        'IDEMPOTENCY_CONFLICT',
        /reserved for the opening/,
      );
      const [result] = await bank.transferMany([{ id: openingIdOf(future), toId: future, amount: '5' }]);
      assert.ok(!result!.ok && (result!.error as RoachbankError).code === 'IDEMPOTENCY_CONFLICT');
      assert.deepEqual(await bank.balances([future, other.id]), [0n, 5n]);
    });

    for (const verdict of ['cut-before', 'cut-after'] as const) {
      test(`an ambiguous commit (${verdict}) is resolved inside the bank: one journal row, a definite answer`, async () => {
        const proxy = await startWireProxy(Number(new URL(db.url).port));
        const proxied = createPool(proxy.urlThrough(db.url), { max: 4, ...poolOptions });
        // Where the movement commits: the Sync of a prepared autocommit statement, else the COMMIT.
        const commits = (m: { type: string; sql?: string }) =>
          sessions === 'read committed' ? m.type === 'S' : m.sql?.trimEnd().endsWith('COMMIT') === true;
        const ambiguities: unknown[] = [];
        const through = await loadBank(proxied, flavor, { ...bankOptions, onAmbiguous: (e) => ambiguities.push(e) });
        try {
          const a = await through.createAccount({ balance: 100n });
          const b = await through.createAccount();
          let armed = true;
          proxy.setPolicy((m) => {
            if (!armed || !commits(m)) return 'forward';
            armed = false;
            return verdict;
          });
          const id = randomUUID();
          const outcome = await through.transfer({ id, fromId: a.id, toId: b.id, amount: 30n });
          assert.equal(armed, false, 'the cut happened');
          assert.equal(ambiguities.length, 1);
          assert.equal(outcome.transfer.id, id);
          // Applied once either way; after cut-after the answer comes from the journal.
          assert.equal(outcome.replayed, verdict === 'cut-after');
          const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE id = $1', [id]);
          assert.equal(rows[0].n, 1);
          assert.equal((await bank.getAccount(a.id)).balance, 70n);
        } finally {
          await proxied.end();
          await proxy.close();
        }
      });
    }

    test('pages through accounts oldest first and through history newest first', async () => {
      const fresh = await createTestDatabase(`paging_${flavor}`);
      try {
        await ensureSchema(fresh.pool);
        const paged = await loadBank(fresh.pool, flavor, bankOptions);
        const created = [];
        for (let i = 0; i < 7; i++) created.push((await paged.createAccount({ balance: BigInt(i + 1) })).id);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await paged.listAccounts({ limit: 3, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((a) => a.id));
          cursor = page.next ?? undefined;
          pages++;
        } while (cursor);
        assert.deepEqual(seen, created);
        assert.equal(pages, 3);
        const target = created[0]!;
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) ids.push((await paged.deposit(target, 1n)).transfer.id);
        const first = await paged.history(target, { limit: 2 });
        const second = await paged.history(target, { limit: 2, cursor: first.next! });
        const third = await paged.history(target, { limit: 2, cursor: second.next! });
        assert.deepEqual(
          [...first.items, ...second.items].map((t) => t.id),
          ids.reverse(),
        );
        assert.equal(third.items.length, 1, 'the opening deposit comes last');
        assert.equal(third.next, null);

        // Money in and out, some in one batch (one created_at, told apart by the account's
        // numbers): pages of history are the journal's rows of the account in chain order, newest first.
        const other = created[1]!;
        await paged.transfer({ fromId: target, toId: other, amount: 1n });
        await paged.withdraw(target, 1n);
        await paged.transferMany([
          { fromId: other, toId: target, amount: 1n },
          { fromId: target, toId: other, amount: 1n },
          { fromId: other, toId: target, amount: 1n },
          { toId: target, amount: 2n },
        ]);
        await paged.transfer({ fromId: other, toId: target, amount: 1n });
        const { rows: journal } = await fresh.pool.query<{ id: string }>(
          `SELECT id FROM roachbank.transfers WHERE from_id = $1 OR to_id = $1
           ORDER BY CASE WHEN from_id = $1 THEN from_sequence ELSE to_sequence END DESC`,
          [target],
        );
        for (const limit of [1, 2, 3, 5, 50]) {
          const pagedIds: string[] = [];
          let page = await paged.history(target, { limit });
          pagedIds.push(...page.items.map((t) => t.id));
          while (page.next) {
            page = await paged.history(target, { limit, cursor: page.next });
            pagedIds.push(...page.items.map((t) => t.id));
          }
          assert.deepEqual(
            pagedIds,
            journal.map((row) => row.id),
            `pages of ${limit}`,
          );
        }
        await rejectsWith(paged.listAccounts({ cursor: 'garbage' }), 'INVALID_ARGUMENT', /cursor/);
        await rejectsWith(paged.listAccounts({ limit: 0 }), 'INVALID_ARGUMENT', /limit/);
        assert.ok((await paged.verify()).ok);
      } finally {
        await fresh.drop();
      }
    });

    test('pages through accounts newest first, and finds them by the start of their id, by id', async () => {
      const fresh = await createTestDatabase(`finding_${flavor}`);
      try {
        await ensureSchema(fresh.pool);
        const found = await loadBank(fresh.pool, flavor, bankOptions);
        // Five ids that share their first 8 hex digits, opened out of id order, and one beside them.
        const shared = [4, 1, 5, 2, 3].map((n) => `abcdef01-0000-4000-8000-00000000000${n}`);
        for (const id of [...shared, 'abcdef02-0000-4000-8000-000000000001']) await found.openAccount({ id });
        const walk = async (
          next: (cursor: string | undefined) => Promise<{ items: readonly { id: string }[]; next: string | null }>,
        ) => {
          const ids: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await next(cursor);
            ids.push(...page.items.map((a) => a.id));
            cursor = page.next ?? undefined;
          } while (cursor);
          return ids;
        };
        const oldest = await walk((cursor) => found.listAccounts({ limit: 4, ...(cursor ? { cursor } : {}) }));
        const newest = await walk((cursor) => found.listAccounts({ limit: 2, order: 'newest', ...(cursor ? { cursor } : {}) }));
        assert.deepEqual(newest, [...oldest].reverse());
        assert.equal(newest.length, 6);
        const byPrefix = (idPrefix: string, limit = 2) =>
          walk((cursor) => found.findAccounts({ idPrefix, page: { limit, ...(cursor ? { cursor } : {}) } }));
        assert.deepEqual(await byPrefix('abcdef01'), [...shared].sort());
        assert.deepEqual(await byPrefix('ABCDEF01-0000-4000-8000-0000000000'), [...shared].sort());
        assert.deepEqual(await byPrefix(shared[2]!), [shared[2]]);
        assert.deepEqual(await byPrefix('abcdef01-'), [...shared].sort());
        assert.deepEqual(await byPrefix('abcdef03'), []);
        for (const bad of ['abcdef0', 'abcdef010', 'abcdef01x', 'zzzzzzzz', `${shared[0]}0`, '']) {
          await rejectsWith(found.findAccounts({ idPrefix: bad }), 'INVALID_ARGUMENT', /id prefix must be the start of a UUID/);
        }
        await rejectsWith(
          found.listAccounts({ order: 'sideways' as never }),
          'INVALID_ARGUMENT',
          /order must be oldest or newest/,
        );
      } finally {
        await fresh.drop();
      }
    });

    test('64 concurrent transfers of 100 from an account holding 1,000: exactly 10 succeed, 54 INSUFFICIENT_FUNDS', async () => {
      const source = await bank.createAccount({ balance: 1000n });
      const sink = await bank.createAccount();
      const results = await Promise.allSettled(
        Array.from({ length: 64 }, () => bank.transfer({ fromId: source.id, toId: sink.id, amount: 100n })),
      );
      const codes = results.map((r) =>
        r.status === 'fulfilled' ? 'ok' : ((r.reason as RoachbankError).code ?? String(r.reason)),
      );
      assert.equal(codes.filter((c) => c === 'ok').length, 10, codes.join(','));
      assert.equal(codes.filter((c) => c === 'INSUFFICIENT_FUNDS').length, 54, codes.join(','));
      assert.equal((await bank.getAccount(source.id)).balance, 0n);
      assert.equal((await bank.getAccount(sink.id)).balance, 1000n);
    });

    test('the same id from 2 clients at once, 200 times: exactly one journal row each', async () => {
      const a = await bank.createAccount({ balance: 100_000n });
      const b = await bank.createAccount();
      const ids = Array.from({ length: 200 }, () => randomUUID());
      const outcomes = await Promise.all(
        ids.flatMap((id) => [1, 2].map(() => bank.transfer({ id, fromId: a.id, toId: b.id, amount: 7n }))),
      );
      for (let i = 0; i < ids.length; i++) {
        const pair = [outcomes[2 * i]!, outcomes[2 * i + 1]!];
        assert.deepEqual(pair.map((o) => o.replayed).sort(), [false, true], 'one applied, one replayed');
        assert.deepEqual(pair[0]!.transfer, pair[1]!.transfer);
      }
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE id = ANY($1)', [ids]);
      assert.equal(rows[0].n, 200);
      assert.equal((await bank.getAccount(b.id)).balance, 1400n);
    });

    test('one id from 50 callers at once: one movement, 49 replays; then another body is IDEMPOTENCY_CONFLICT', async () => {
      const a = await bank.createAccount({ balance: 1000n });
      const b = await bank.createAccount();
      const id = randomUUID();
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, () => bank.transfer({ id, fromId: a.id, toId: b.id, amount: 10n })),
      );
      assert.equal(outcomes.filter((o) => !o.replayed).length, 1);
      assert.ok(outcomes.every((o) => o.transfer.amount === 10n && o.transfer.id === id));
      await rejectsWith(
        bank.transfer({ id, fromId: a.id, toId: b.id, amount: 11n }),
        'IDEMPOTENCY_CONFLICT',
        /amount 10, not 11/,
      );
      assert.deepEqual(await bank.balances([a.id, b.id]), [990n, 10n]);
    });

    test('opposite transfers between the same two accounts, 100 each way at once: no deadlock, the sums are right', async () => {
      const a = await bank.createAccount({ balance: 500n });
      const b = await bank.createAccount({ balance: 500n });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          bank.transfer(i % 2 ? { fromId: a.id, toId: b.id, amount: 3n } : { fromId: b.id, toId: a.id, amount: 2n }),
        ),
      );
      assert.equal(results.length, 200);
      assert.deepEqual(await bank.balances([a.id, b.id]), [500n - 300n + 200n, 500n + 300n - 200n]);
    });

    test('deposits, withdrawals, transfers and a closed account, all at once: each its own answer', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount({ balance: 5n });
      const closed = await bank.createAccount();
      await bank.closeAccount(closed.id);
      const settled = await Promise.allSettled([
        bank.deposit(a.id, 7n),
        bank.withdraw(b.id, 5n),
        bank.transfer({ fromId: a.id, toId: closed.id, amount: 1n }),
        bank.deposit(closed.id, 1n),
        bank.withdraw(a.id, 1000n),
        bank.transfer({ fromId: b.id, toId: a.id, amount: 1n }),
      ]);
      const codes = settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as RoachbankError).code));
      assert.deepEqual(
        [codes[0], codes[2], codes[3], codes[4]],
        ['ok', 'ACCOUNT_NOT_FOUND', 'ACCOUNT_NOT_FOUND', 'INSUFFICIENT_FUNDS'],
      );
      // b holds 5: of the withdrawal of 5 and the transfer of 1 from b, exactly one succeeds, in whichever order they ran.
      assert.deepEqual([codes[1], codes[5]].sort(), ['INSUFFICIENT_FUNDS', 'ok'], codes.join(','));
      const transferred = codes[5] === 'ok';
      assert.deepEqual(await bank.balances([a.id, b.id]), [107n + (transferred ? 1n : 0n), transferred ? 4n : 0n]);
    });

    test('a credit that overflows INT8 fails alone: the movements sent beside it succeed', async () => {
      const full = await bank.createAccount({ balance: maxMoney - 10n });
      const others = await Promise.all(Array.from({ length: 5 }, () => bank.createAccount()));
      const settled = await Promise.allSettled([
        ...others.map((o) => bank.deposit(o.id, 3n)),
        bank.deposit(full.id, 11n),
        ...others.map((o) => bank.deposit(o.id, 4n)),
      ]);
      const codes = settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as RoachbankError).code));
      assert.deepEqual(codes, [...Array(5).fill('ok'), 'BALANCE_LIMIT', ...Array(5).fill('ok')]);
      assert.deepEqual(await bank.balances(others.map((o) => o.id)), Array(5).fill(7n));
      await bank.withdraw(full.id, maxMoney - 10n); // leave the bank summable for the next tests
    });

    test('transferMany: results in input order, each item seeing the ones before it; bad items fail alone', async () => {
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount();
      const c = await bank.createAccount();
      const repeated = randomUUID();
      const results = await bank.transferMany([
        { id: repeated, fromId: a.id, toId: b.id, amount: 60n },
        { fromId: b.id, toId: c.id, amount: 60n }, // only possible after the first
        { id: repeated, fromId: a.id, toId: b.id, amount: 60n }, // a replay of the first
        { id: repeated, fromId: a.id, toId: b.id, amount: 61n }, // a conflict with it
        { fromId: a.id, toId: c.id, amount: 41n }, // a holds 40 by now
        { fromId: a.id, amount: 40n }, // a withdrawal that drains a
        { toId: b.id, amount: 'x' },
        { fromId: a.id, toId: a.id, amount: 1n },
        { toId: randomUUID(), amount: 1n },
        { toId: c.id, amount: 5n },
      ]);
      const summary = results.map((r) =>
        r.ok ? (r.outcome.replayed ? 'replayed' : 'created') : (r.error as RoachbankError).code,
      );
      assert.deepEqual(summary, [
        'created',
        'created',
        'replayed',
        'IDEMPOTENCY_CONFLICT',
        'INSUFFICIENT_FUNDS',
        'created',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'ACCOUNT_NOT_FOUND',
        'created',
      ]);
      assert.match((results[4] as { error: Error }).error.message, /has 40 available, cannot debit 41/);
      assert.deepEqual(await bank.balances([a.id, b.id, c.id]), [0n, 0n, 65n]);
      assert.deepEqual(await bank.transferMany([]), []);
      await rejectsWith(
        bank.transferMany(Array.from({ length: 1001 }, () => ({ toId: a.id, amount: 1n }))),
        'INVALID_ARGUMENT',
        /at most 1000/,
      );
      assert.deepEqual(await bank.balances([a.id]), [0n], 'the refused call moved nothing');
    });

    test('an AbortSignal releases its caller: before the call, nothing is sent', async () => {
      const a = await bank.createAccount({ balance: 10n });
      const b = await bank.createAccount();
      const id = randomUUID();
      const controller = new AbortController();
      controller.abort(new Error('the caller gave up'));
      await assert.rejects(
        bank.transfer({ id, fromId: a.id, toId: b.id, amount: 1n }, { signal: controller.signal }),
        /the caller gave up/,
      );
      await assert.rejects(
        bank.transferMany([{ id, fromId: a.id, toId: b.id, amount: 1n }], { signal: controller.signal }),
        /the caller gave up/,
      );
      await rejectsWith(bank.getTransfer(id), 'TRANSFER_NOT_FOUND');
    });

    test('replaying 1,000 transfers concurrently moves no money', async () => {
      const accounts = await Promise.all(Array.from({ length: 10 }, () => bank.createAccount({ balance: 1_000_000n })));
      const requests = Array.from({ length: 1000 }, (_, i) => ({
        id: randomUUID(),
        fromId: accounts[i % 10]!.id,
        toId: accounts[(i * 7 + 3) % 10 === i % 10 ? (i + 1) % 10 : (i * 7 + 3) % 10]!.id,
        amount: BigInt(1 + (i % 50)),
      }));
      for (let i = 0; i < requests.length; i += 100) await Promise.all(requests.slice(i, i + 100).map((r) => bank.transfer(r)));
      const balances = async () => Promise.all(accounts.map(async (a) => (await bank.getAccount(a.id)).balance));
      const { rows: before } = await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers');
      const snapshot = await balances();
      const replays = await Promise.all(requests.map((r) => bank.transfer(r)));
      assert.ok(replays.every((o) => o.replayed));
      assert.deepEqual(await balances(), snapshot);
      const { rows: afterwards } = await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers');
      assert.equal(afterwards[0].n, before[0].n);
    });
  });
}

describe('group commit (pg)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('group_commit', { max: 8, statementIsolation: 'read committed' });
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  test('concurrent calls share statements: 64 calls, far fewer batches', async () => {
    const sizes: number[] = [];
    const bank = createBank(db.pool, { onBatch: (size) => sizes.push(size) });
    const accounts = await Promise.all(Array.from({ length: 8 }, () => bank.createAccount({ balance: 1000n })));
    sizes.length = 0;
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        bank.transfer({ fromId: accounts[i % 8]!.id, toId: accounts[(i + 1) % 8]!.id, amount: 1n }),
      ),
    );
    assert.equal(
      sizes.reduce((sum, n) => sum + n, 0),
      64,
    );
    assert.ok(sizes.length <= 16, `64 calls in ${sizes.length} statements: ${sizes.join(',')}`);
    assert.ok(Math.max(...sizes) <= 8, 'no account debited twice in one batch');
  });

  test('a caller whose signal fires while queued is released at once; the batch beside it is untouched', async () => {
    const bank = createBank(db.pool);
    const [held, other] = await Promise.all([bank.createAccount(), bank.createAccount()]);
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM roachbank.accounts WHERE id = $1 FOR UPDATE', [held.id]);
      const first = bank.deposit(held.id, 1n); // sent, and waits on the row lock
      await new Promise((resolve) => setTimeout(resolve, 50));
      const controller = new AbortController();
      const queuedId = randomUUID();
      const queued = bank.deposit(held.id, 2n, { id: queuedId, signal: controller.signal }); // waits for the first
      const beside = await bank.deposit(other.id, 3n); // another account: its own batch goes through
      assert.equal(beside.transfer.amount, 3n);
      controller.abort(new Error('gave up waiting'));
      await assert.rejects(queued, /gave up waiting/);
      await blocker.query('COMMIT');
      assert.equal((await first).transfer.amount, 1n);
    } finally {
      blocker.release();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await bank.balances([held.id, other.id]), [1n, 3n], 'the released call was never sent');
  });

  test('options are checked: maxSize and maxInFlight are whole numbers in range', () => {
    assert.throws(() => createBank(db.pool, { batch: { maxSize: 0 } }), /maxSize/);
    assert.throws(() => createBank(db.pool, { batch: { maxInFlight: 1.5 } }), /maxInFlight/);
  });
});

describe('verify catches what is wrong', () => {
  test('a balance that disagrees with the journal, a negative balance, money that came from nowhere', async () => {
    const fresh = await createTestDatabase('verify_tamper');
    try {
      await ensureSchema(fresh.pool);
      const bank = createBank(fresh.pool);
      const a = await bank.createAccount({ balance: 100n });
      const b = await bank.createAccount({ balance: 50n });
      assert.equal((await bank.verify()).ok, true);

      await fresh.pool.query('UPDATE roachbank.accounts SET balance = balance + 1 WHERE id = $1', [a.id]);
      let report = await bank.verify();
      assert.equal(report.ok, false);
      assert.equal(report.mismatchedCount, 1);
      assert.deepEqual(report.mismatched, [{ id: a.id, balance: 101n, journal: 100n }]);
      assert.equal(report.totalBalance - (report.moneyIn - report.moneyOut), 1n, 'one unit appeared from nowhere');

      await fresh.pool.query('UPDATE roachbank.accounts SET balance = 100 WHERE id = $1', [a.id]);
      await fresh.pool.query('ALTER TABLE roachbank.accounts DROP CONSTRAINT accounts_balance_floor_check');
      await fresh.pool.query('UPDATE roachbank.accounts SET balance = -5 WHERE id = $1', [b.id]);
      report = await bank.verify();
      assert.equal(report.ok, false);
      assert.equal(report.negativeCount, 1);
    } finally {
      await fresh.drop();
    }
  });
});
