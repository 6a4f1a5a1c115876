// Balance at a moment, statements and history in chain order, on both flavors and both pg
// paths, against a replay of the journal: `balanceAt` at every journal row's time (rows that
// share a time included: a batch, or statements that waited on one another's locks) is the
// replay up to that time; statements of adjacent periods join exactly and their lines, page
// by page, are the journal's rows in chain order; history pages by number, newest first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bank, StatementLine } from '../packages/roachbank/src/bank/bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { bankVariants } from './support/bank-variants.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

interface Leg {
  readonly sequence: number;
  readonly balance: bigint;
  readonly change: bigint;
  readonly at: string;
  readonly micros: bigint;
  readonly transferId: string;
}

/** An account's legs in chain order, straight from the journal, with each row's time as text and in µs. */
async function legsOf(db: TestDatabase, account: string): Promise<Leg[]> {
  const { rows } = await db.pool.query(
    `SELECT id, from_sequence AS sequence, from_balance_after AS balance, -amount AS change, created_at FROM roachbank.transfers WHERE from_id = $1
     UNION ALL
     SELECT id, to_sequence, to_balance_after, amount, created_at FROM roachbank.transfers WHERE to_id = $1`,
    [account],
  );
  const { rows: texts } = await db.pool.query(
    `SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
       (extract(epoch FROM created_at) * 1000000)::INT8::TEXT AS micros
     FROM roachbank.transfers WHERE from_id = $1 OR to_id = $1`,
    [account],
  );
  const time = new Map(texts.map((t) => [t.id as string, t as { at: string; micros: string }]));
  return rows
    .map((r) => ({
      sequence: Number(r.sequence),
      balance: BigInt(r.balance),
      change: BigInt(r.change),
      at: time.get(r.id)!.at,
      micros: BigInt(time.get(r.id)!.micros),
      transferId: r.id as string,
    }))
    .sort((x, y) => x.sequence - y.sequence);
}

/** Every line of a statement, page by page. */
async function allLines(bank: Bank, account: string, from: string, to: string, limit: number) {
  const lines: StatementLine[] = [];
  let cursor: string | undefined;
  let first: Awaited<ReturnType<Bank['statement']>> | undefined;
  do {
    const page = await bank.statement(account, { from, to, page: { limit, ...(cursor ? { cursor } : {}) } });
    first ??= page;
    assert.deepEqual([page.opening, page.closing], [first.opening, first.closing], 'every page tells the same period');
    lines.push(...page.lines.items);
    cursor = page.lines.next ?? undefined;
  } while (cursor);
  return { statement: first, lines };
}

for (const { flavor, batch, name } of bankVariants) {
  describe(`balance at a moment and statements (${name})`, () => {
    let db: TestDatabase;
    let bank: Bank;
    let sink: string;
    let source: string;
    before(async () => {
      db = await createTestDatabase(`statements_${flavor}_${batch ? 'batched' : 'single'}`, { max: 16 });
      await ensureSchema(db.pool);
      bank = await loadBank(db.pool, flavor, batch ? {} : { batch: false });
      source = (await bank.createAccount({ balance: 10_000n })).id;
      sink = (await bank.createAccount({ reference: 'statement-sink' })).id;
      const others = await Promise.all(Array.from({ length: 6 }, () => bank.createAccount({ balance: 500n })));
      // Rows that share a time: one batch crediting the sink four times, then 48 concurrent
      // transfers into it (statements that waited on its lock take its last row's time).
      await bank.transferMany([
        { fromId: source, toId: sink, amount: 1n },
        { fromId: others[0]!.id, toId: sink, amount: 2n },
        { toId: sink, amount: 3n },
        { fromId: others[1]!.id, toId: sink, amount: 4n },
      ]);
      await Promise.all(
        Array.from({ length: 48 }, (_, i) =>
          bank.transfer({ fromId: i % 2 ? source : others[i % 6]!.id, toId: sink, amount: BigInt(1 + (i % 5)) }),
        ),
      );
      const moved = await bank.transfer({ fromId: sink, toId: source, amount: 20n, reference: 'refund 7' });
      await bank.withdraw(sink, 5n);
      const { hold } = await bank.hold({ fromId: sink, toId: source, amount: 9n });
      await bank.postHold(hold.id, { amount: 6n });
      await bank.reverse(moved.transfer.id, { amount: 8n });
    });
    after(() => db.drop());

    test('balanceAt at every row’s time is the journal replayed up to that time', async () => {
      for (const account of [sink, source]) {
        const legs = await legsOf(db, account);
        assert.ok(legs.length > 10);
        for (const leg of legs) {
          const upTo = legs.filter((l) => l.micros <= leg.micros);
          const expected = upTo.at(-1)!;
          const answer = await bank.balanceAt(account, leg.at);
          assert.deepEqual(
            [answer.balance, answer.sequence],
            [expected.balance, expected.sequence],
            `${account} at ${leg.at} (row ${leg.sequence})`,
          );
          assert.equal(expected.sequence, upTo.length, 'the chain follows time');
        }
        const now = await bank.getAccount(account);
        const later = await bank.balanceAt(account, new Date(Date.now() + 60_000));
        assert.deepEqual([later.balance, later.sequence, later.currency], [now.balance, legs.length, now.currency]);
        const earlier = await bank.balanceAt(account, '2000-01-01T00:00:00Z');
        assert.deepEqual([earlier.balance, earlier.sequence], [0n, 0]);
      }
    });

    test('statements of adjacent periods join exactly, and their lines are the journal in chain order', async () => {
      const legs = await legsOf(db, sink);
      const times = [...new Set(legs.map((l) => l.at))];
      // Cut points: before everything, a few row times (a cut at a shared time splits nothing), after everything.
      const cuts = [
        '2000-01-01T00:00:00Z',
        times[1]!,
        times[Math.floor(times.length / 2)]!,
        times.at(-1)!,
        '2999-01-01T00:00:00Z',
      ];
      const seen: StatementLine[] = [];
      let previousClosing: { sequence: number; balance: bigint } | undefined;
      for (let i = 0; i + 1 < cuts.length; i++) {
        const { statement, lines } = await allLines(bank, sink, cuts[i]!, cuts[i + 1]!, 3);
        if (previousClosing) assert.deepEqual(statement.opening, previousClosing, `period ${i} opens where ${i - 1} closed`);
        previousClosing = statement.closing;
        assert.equal(statement.movements, lines.length);
        assert.equal(
          statement.closing.balance - statement.opening.balance,
          lines.reduce((sum, line) => sum + line.change, 0n),
        );
        let running = statement.opening.balance;
        for (const line of lines) {
          running += line.change;
          assert.equal(line.balanceAfter, running, `line ${line.sequence} follows from the one before`);
        }
        seen.push(...lines);
      }
      assert.deepEqual(
        seen.map((line) => [line.sequence, line.transferId, line.change, line.balanceAfter]),
        legs.map((leg) => [leg.sequence, leg.transferId, leg.change, leg.balance]),
        'the periods hold every row once, in chain order',
      );
      const refund = seen.find((line) => line.reference === 'refund 7')!;
      assert.deepEqual([refund.kind, refund.counterpartyId, refund.change], ['transfer', source, -20n]);
      assert.equal(previousClosing!.balance, (await bank.getAccount(sink)).balance);
    });

    test('history pages by the account’s numbers, newest first, without a gap or a repeat', async () => {
      const legs = await legsOf(db, sink);
      const numbers: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await bank.history(sink, { limit: 7, ...(cursor ? { cursor } : {}) });
        for (const row of page.items) numbers.push(row.fromId === sink ? row.fromSequence! : row.toSequence!);
        cursor = page.next ?? undefined;
      } while (cursor);
      assert.deepEqual(numbers, legs.map((l) => l.sequence).reverse());
    });

    test('bad requests are refused with what is wrong', async () => {
      const code = async (work: Promise<unknown>) => {
        const error = await work.then(
          () => undefined,
          (e: unknown) => e,
        );
        return error instanceof RoachbankError ? error.code : error;
      };
      assert.equal(await code(bank.balanceAt('00000000-0000-4000-8000-000000000000', new Date())), 'ACCOUNT_NOT_FOUND');
      assert.equal(
        await code(bank.statement('00000000-0000-4000-8000-000000000000', { from: new Date(0), to: new Date() })),
        'ACCOUNT_NOT_FOUND',
      );
      for (const at of ['yesterday', '2026-12-04', '2026-12-04T10:00:00', '2026-13-40T10:00:00Z', new Date(Number.NaN), 42]) {
        assert.equal(await code(bank.balanceAt(sink, at as string)), 'INVALID_ARGUMENT', String(at));
      }
      assert.equal(
        await code(bank.statement(sink, { from: '2026-12-05T00:00:00Z', to: '2026-12-04T00:00:00Z' })),
        'INVALID_ARGUMENT',
      );
      assert.equal(
        await code(bank.statement(sink, { from: new Date(0), to: new Date(), page: { cursor: 'bm90IGEgY3Vyc29y' } })),
        'INVALID_ARGUMENT',
      );
      assert.equal(
        await code(bank.statement(sink, { from: new Date(0), to: new Date(), page: { limit: 0 } })),
        'INVALID_ARGUMENT',
      );
      assert.equal(await code(bank.balanceAt('not-an-id', new Date())), 'INVALID_ARGUMENT');
      const empty = await bank.statement(sink, { from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' });
      assert.equal(empty.currency, (await bank.getAccount(sink)).currency, 'a period without lines still names the currency');
      assert.deepEqual(
        [empty.movements, empty.lines.items.length, empty.lines.next, empty.closing],
        [0, 0, null, { sequence: 0, balance: 0n }],
      );
    });
  });
}
