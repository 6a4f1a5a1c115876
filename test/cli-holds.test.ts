// Holds, reversals and atomic files through the `roachbank` command, as a person
// types them: what each prints, in JSON and for humans, and what it leaves behind.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('cli_holds');
  await ensureSchema(db.pool);
});
after(() => db.drop());

const cli = async (args: string[]) => {
  const result = await runCli(args, { DATABASE_URL: db.url });
  assert.equal(result.code, 0, `roachbank ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};
const json = async (args: string[]) => JSON.parse(await cli(['--json', ...args]));

describe('roachbank hold, post, void, holds, reverse', () => {
  test('a card flow and a refund, as a person types them', async () => {
    const bank = createBank(db.pool);
    const card = (await bank.createAccount({ balance: 100n })).id;
    const shop = (await bank.createAccount()).id;

    const hold = await json(['hold', card, shop, '60', '--expires', '15m']);
    assert.deepEqual([hold.hold.status, hold.hold.amount, hold.replayed], ['pending', '60', false]);
    assert.equal(new Date(hold.hold.expiresAt).getTime() - new Date(hold.hold.createdAt).getTime(), 15 * 60_000);
    const shown = await cli(['accounts', 'show', card]);
    assert.match(shown, /^balance +100$/m);
    assert.match(shown, /^held +60$/m);
    assert.match(shown, /^available +40$/m);
    assert.match(await cli(['holds', card]), new RegExp(`pending +60 +${shop} .* ${hold.hold.id}`));

    const posted = await cli(['post', hold.hold.id, '45']);
    assert.match(posted, new RegExp(`^transferred 45 from ${card} to ${shop} \\(posting hold ${hold.hold.id}\\)$`, 'm'));
    const again = await runCli(['post', hold.hold.id], { DATABASE_URL: db.url });
    assert.equal(again.code, 4);
    assert.match(again.stderr, /^roachbank: HOLD_NOT_PENDING: hold .* was posted for 45\n$/);

    const withdrawal = await json(['hold', card, '10', '--id', randomUUID()]);
    assert.equal(withdrawal.hold.toId, null);
    assert.match(await cli(['void', withdrawal.hold.id]), /^status +voided$/m);
    assert.match(await cli(['void', withdrawal.hold.id]), /^already done, nothing changed again:$/m);

    const refund = await json(['reverse', posted.match(/transfer id (\S+)/)![1]!, '5']);
    assert.deepEqual([refund.transfer.fromId, refund.transfer.toId, refund.transfer.amount], [shop, card, '5']);
    const rest = await json(['reverse', refund.transfer.reversalOf]);
    assert.equal(rest.transfer.amount, '40');
    assert.deepEqual(await bank.balances([card, shop]), [100n, 0n]);
    assert.match(await cli(['verify']), /^ok: every invariant holds/);
  });

  test('a hold of a GBP card shows in pounds, as its balances do; --json keeps minor units', async () => {
    const bank = createBank(db.pool);
    const card = (await bank.createAccount({ balance: 10_000n, currency: 'GBP' })).id;
    const shop = (await bank.createAccount({ currency: 'GBP' })).id;
    const placed = await cli(['hold', card, shop, '1250']);
    assert.match(placed, new RegExp(`^amount +12\\.50 GBP from ${card} to ${shop}$`, 'm'));
    const id = placed.match(/^hold +(\S+)$/m)![1]!;
    assert.match(await cli(['holds', card]), new RegExp(`pending +12\\.50 GBP +${shop} .* ${id}`));
    assert.equal((await json(['holds', card])).items[0].amount, '1250');
    assert.match(await cli(['post', id, '999']), /^transferred 9\.99 GBP from /m);
    assert.match(
      await cli(['void', (await json(['hold', card, '5'])).hold.id]),
      /^amount +0\.05 GBP from .* \(a withdrawal when posted\)$/m,
    );
  });

  test('two processes post one hold, and place one hold id, at once: one movement, one hold, both told the truth', async () => {
    const bank = createBank(db.pool);
    const card = (await bank.createAccount({ balance: 100n })).id;
    const shop = (await bank.createAccount()).id;
    const id = randomUUID();
    const placed = await Promise.all([1, 2].map(() => json(['hold', card, shop, '100', '--id', id])));
    assert.deepEqual(
      placed.map((p) => p.hold.id),
      [id, id],
    );
    assert.deepEqual(placed.map((p) => p.replayed).sort(), [false, true]);
    const posted = await Promise.all([1, 2].map(() => json(['post', id])));
    assert.deepEqual(posted.map((p) => p.replayed).sort(), [false, true]);
    assert.equal(posted[0].transfer.id, posted[1].transfer.id);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE hold_id = $1', [id]);
    assert.equal(rows[0].n, 1);
    assert.deepEqual(await bank.balances([card, shop]), [0n, 100n]);
  });

  test('transfer --file --atomic: a split payment moves whole, a failing file moves nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roachbank-atomic-'));
    try {
      const bank = createBank(db.pool);
      const buyer = (await bank.createAccount({ balance: 100n })).id;
      const seller = (await bank.createAccount()).id;
      const fees = (await bank.createAccount()).id;
      const split = join(dir, 'split.jsonl');
      await writeFile(
        split,
        [
          { fromId: buyer, toId: seller, amount: '97' },
          { fromId: buyer, toId: fees, amount: '3' },
        ]
          .map((item) => JSON.stringify({ id: randomUUID(), ...item }))
          .join('\n'),
      );
      const applied = await runCli(['transfer', '--file', split, '--atomic'], { DATABASE_URL: db.url });
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stderr, /^2 movements: 2 moved, 0 already done, 0 failed\n$/);
      const failing = join(dir, 'failing.csv');
      await writeFile(
        failing,
        `id,fromId,toId,amount\n${randomUUID()},${seller},${fees},10\n${randomUUID()},${buyer},${seller},1\n`,
      );
      const refused = await runCli(['transfer', '--file', failing, '--atomic'], { DATABASE_URL: db.url });
      assert.equal(refused.code, 4);
      const lines = refused.stdout.trim().split('\n');
      assert.match(lines[0]!, /^line 2: GROUP_FAILED: nothing of the group happened: item 2 of 2 failed \(INSUFFICIENT_FUNDS\)$/);
      assert.match(lines[1]!, /^line 3: INSUFFICIENT_FUNDS: /);
      assert.deepEqual(await bank.balances([buyer, seller, fees]), [0n, 97n, 3n]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('roachbank accounts create --currency --credit-limit, accounts limit', () => {
  test('amounts print in their currency for people and stay minor units in JSON; a limit in use is refused', async () => {
    const opened = await json(['accounts', 'create', '--currency', 'USD', '--credit-limit', '500', '--balance', '12345']);
    assert.deepEqual([opened.currency, opened.creditLimit, opened.balance], ['USD', '500', '12345']);
    const shown = await cli(['accounts', 'show', opened.id]);
    assert.match(shown, /^balance +123\.45 USD$/m);
    assert.match(shown, /^credit +5\.00 USD$/m);
    const shop = (await json(['accounts', 'create', '--currency', 'USD'])).id;
    assert.match(await cli(['transfer', opened.id, shop, '12800']), /transferred 128\.00 USD from/);
    assert.match(await cli(['accounts', 'show', opened.id]), /^balance +-4\.55 USD$/m);
    const refused = await runCli(['accounts', 'limit', opened.id, '400'], { DATABASE_URL: db.url });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /CREDIT_LIMIT_IN_USE/);
    assert.match(await cli(['accounts', 'limit', opened.id, '455']), /^credit +4\.55 USD$/m);
    const plain = await json(['accounts', 'create']);
    const mixed = await runCli(['transfer', plain.id, shop, '1'], { DATABASE_URL: db.url });
    assert.equal(mixed.code, 4);
    assert.match(mixed.stderr, /CURRENCY_MISMATCH/);
    const bad = await runCli(['accounts', 'create', '--currency', 'usd'], { DATABASE_URL: db.url });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /INVALID_ARGUMENT.*currency/);
    assert.match(await cli(['verify']), /USD +ok: 2 accounts/);
  });
});
