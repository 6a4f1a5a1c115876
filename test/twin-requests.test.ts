// Every answer true under twins: the same movement (same id, same body) sent at once
// through two banks that share nothing but the database (two pools, two group
// commits: what two processes are), on exact-drain amounts. The twin that loses the
// race waits on the source's row lock, then sees the balance drained; only the
// journal can tell it that its own id moved the money. Every answer must be the
// movement or its replay, never INSUFFICIENT_FUNDS, and the money moves once.
// Cross-process runs of the same (two `serve`s, two CLIs) are in twin-processes.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Bank, BankOptions, Flavor, MovementOutcome } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

type Send = (bank: Bank, id: string, fromId: string, toId: string) => Promise<MovementOutcome>;
const single: Send = (bank, id, fromId, toId) => bank.transfer({ id, fromId, toId, amount: 100n });
const many: Send = async (bank, id, fromId, toId) => {
  const [result] = await bank.transferMany([{ id, fromId, toId, amount: 100n }]);
  if (!result!.ok) throw result!.error;
  return result!.outcome;
};
const withdrawal: Send = (bank, id, fromId) => bank.withdraw(fromId, 100n, { id });

interface Side {
  readonly flavor: Flavor;
  readonly options: BankOptions;
  readonly send: Send;
}
const batched: Side = { flavor: 'pg', options: {}, send: single };
const alone: Side = { flavor: 'pg', options: { batch: false }, send: single };
const pairs: readonly { name: string; sides: readonly [Side, Side] }[] = [
  { name: 'batched beside batched', sides: [batched, batched] },
  { name: 'single statements beside single statements', sides: [alone, alone] },
  { name: 'batched beside single statements', sides: [batched, alone] },
  { name: 'transfer beside transferMany', sides: [batched, { ...batched, send: many }] },
  {
    name: 'transferMany beside transferMany, unbatched',
    sides: [
      { ...alone, send: many },
      { ...alone, send: many },
    ],
  },
  {
    name: 'withdrawals, batched beside single',
    sides: [
      { ...batched, send: withdrawal },
      { ...alone, send: withdrawal },
    ],
  },
  { name: 'pg beside orm', sides: [batched, { flavor: 'orm', options: {}, send: single }] },
];
const rounds = 40;

describe('twin requests through two banks that share only the database', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('twins');
    await ensureSchema(db.pool);
  });
  after(() => db.drop());

  for (const { name, sides } of pairs) {
    test(`${name}: every answer is the movement or its replay, on exact-drain amounts`, async () => {
      const pools = sides.map(() => createPool(db.url, { max: 4 }));
      try {
        const banks = await Promise.all(sides.map((side, i) => loadBank(pools[i]!, side.flavor, side.options)));
        const refusals: string[] = [];
        for (let round = 0; round < rounds; round++) {
          const source = await banks[0]!.createAccount({ balance: 100n });
          const destination = await banks[0]!.createAccount();
          const id = randomUUID();
          const answers = await Promise.allSettled(sides.map((side, i) => side.send(banks[i]!, id, source.id, destination.id)));
          for (const answer of answers) {
            if (answer.status === 'rejected') refusals.push(`round ${round}: ${String(answer.reason)}`);
          }
          const created = answers.filter((a) => a.status === 'fulfilled' && !a.value.replayed).length;
          assert.ok(created <= 1, `round ${round}: money moved by ${created} answers`);
          assert.deepEqual(await banks[0]!.balances([source.id]), [0n], `round ${round}: the source is drained once`);
        }
        assert.deepEqual(refusals, [], `${refusals.length} of ${rounds * 2} answers were refusals of a movement that happened`);
        const report = await banks[0]!.verify();
        assert.ok(report.ok);
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    });
  }

  test('twins with different bodies: one moves, the other is IDEMPOTENCY_CONFLICT, never INSUFFICIENT_FUNDS', async () => {
    const pools = [createPool(db.url, { max: 4 }), createPool(db.url, { max: 4 })];
    try {
      const banks = [createBank(pools[0]!), createBank(pools[1]!, { batch: false })];
      const codes = new Map<string, number>();
      for (let round = 0; round < rounds; round++) {
        const source = await banks[0]!.createAccount({ balance: 100n });
        const destination = await banks[0]!.createAccount();
        const id = randomUUID();
        const answers = await Promise.allSettled(
          [100n, 60n].map((amount, i) => banks[i]!.transfer({ id, fromId: source.id, toId: destination.id, amount })),
        );
        assert.equal(answers.filter((a) => a.status === 'fulfilled').length, 1, `round ${round}: one body moves`);
        for (const answer of answers) {
          if (answer.status === 'rejected') {
            const code = (answer.reason as { code?: string }).code ?? String(answer.reason);
            codes.set(code, (codes.get(code) ?? 0) + 1);
          }
        }
      }
      assert.deepEqual([...codes], [['IDEMPOTENCY_CONFLICT', rounds]]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
