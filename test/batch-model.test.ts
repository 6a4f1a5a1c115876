// The model check of group commit (DESIGN §7): seeded random batches against a
// sequential in-memory bank. Thousands of cases, hot and uniform accounts, ids
// repeated within a list and ids already journaled, closed and unknown accounts,
// amounts that drain an account exactly and credits that overflow INT8, malformed
// items. Every outcome and every final balance must equal the model's.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MovementRequest, MovementResult } from '../packages/roachbank/src/bank/bank.js';
import { BatchRule } from '../packages/roachbank/src/bank/batch-rule.js';
import { type CheckedMovement, movement } from '../packages/roachbank/src/bank/movement.js';
import { PgBank } from '../packages/roachbank/src/bank/pg-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { type SeededRandom, seededRandom } from '../packages/roachbank-app/src/workload/seeded-random.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const seed = Number(process.env.ROACHBANK_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** What one call answers, in comparable form: the outcome's body, or the error's code and message. */
type Answer =
  | { ok: true; replayed: boolean; id: string; fromId: string | null; toId: string | null; amount: bigint }
  | { ok: false; code: string; message: string };

/** The largest balance an account can hold (INT8). */
const maxBalance = 2n ** 63n - 1n;

/** A refusal as the specification words it. */
const refused = (code: string, message: string): Answer => ({ ok: false, code, message });

/** What kind of movement a body is: which sides it names. */
const kindOf = (m: { fromId: string | null; toId: string | null }) =>
  m.fromId === null ? 'deposit' : m.toId === null ? 'withdrawal' : 'transfer';

/**
 * The bank, one movement at a time, in memory: the specification. Its replay and
 * refusal rules are its own, written from DESIGN §6 and the README, not taken from
 * the product (which would make the check prove nothing): only the parsing of a
 * request (`movement`) is shared.
 */
class SequentialBank {
  readonly balances = new Map<string, bigint>();
  readonly closed = new Set<string>();
  readonly journal = new Map<string, CheckedMovement>();

  apply(request: MovementRequest): Answer {
    let item: CheckedMovement;
    try {
      item = movement(request);
    } catch (error) {
      return failure(error);
    }
    return this.applyChecked(item);
  }

  applyChecked(item: CheckedMovement): Answer {
    const existing = this.journal.get(item.id);
    if (existing) {
      // The same id: a replay of the same body, or a conflict that names every difference.
      const differences: string[] = [];
      if (kindOf(existing) !== kindOf(item)) differences.push(`it was a ${kindOf(existing)}, not a ${kindOf(item)}`);
      else {
        if (existing.fromId !== item.fromId) differences.push(`source ${existing.fromId}, not ${item.fromId}`);
        if (existing.toId !== item.toId) differences.push(`destination ${existing.toId}, not ${item.toId}`);
      }
      if (existing.amount !== item.amount) differences.push(`amount ${existing.amount}, not ${item.amount}`);
      if (differences.length > 0) {
        return refused(
          'IDEMPOTENCY_CONFLICT',
          `transfer id ${item.id} was already used with another body: ${differences.join('; ')}`,
        );
      }
      return { ok: true, replayed: true, id: item.id, fromId: existing.fromId, toId: existing.toId, amount: existing.amount };
    }
    // The source first, then the destination, then funds, then the credit's ceiling.
    for (const id of [item.fromId, item.toId]) {
      if (id !== null && !this.isOpen(id)) return refused('ACCOUNT_NOT_FOUND', `no open account ${id}`);
    }
    if (item.fromId !== null) {
      const balance = this.balances.get(item.fromId)!;
      if (balance < item.amount) {
        return refused('INSUFFICIENT_FUNDS', `account ${item.fromId} has ${balance} available, cannot debit ${item.amount}`);
      }
    }
    if (item.toId !== null && this.balances.get(item.toId)! + item.amount > maxBalance) {
      return refused('BALANCE_LIMIT', 'the balance would exceed 2^63 - 1');
    }
    if (item.fromId !== null) this.balances.set(item.fromId, this.balances.get(item.fromId)! - item.amount);
    if (item.toId !== null) this.balances.set(item.toId, this.balances.get(item.toId)! + item.amount);
    this.journal.set(item.id, item);
    return { ok: true, replayed: false, id: item.id, fromId: item.fromId, toId: item.toId, amount: item.amount };
  }

  isOpen(id: string): boolean {
    return this.balances.has(id) && !this.closed.has(id);
  }
}

function failure(error: unknown): Answer {
  assert.ok(error instanceof RoachbankError, `expected a RoachbankError, got ${String(error)}`);
  return { ok: false, code: error.code, message: error.message };
}

function answerOf(result: MovementResult): Answer {
  if (!result.ok) return failure(result.error);
  const { transfer, replayed } = result.outcome;
  assert.ok(transfer.createdAt instanceof Date);
  return { ok: true, replayed, id: transfer.id, fromId: transfer.fromId, toId: transfer.toId, amount: transfer.amount };
}

/** One case: its accounts opened in the bank and in the model, then its movements. */
interface Case {
  readonly model: SequentialBank;
  readonly accounts: string[];
  readonly items: MovementRequest[];
}

/**
 * Opens a case's accounts. `overflow` adds balances and amounts near 2^63 − 1, so some
 * credits overflow INT8 and the bank must isolate them.
 */
async function openCase(bank: PgBank, random: SeededRandom, overflow: boolean): Promise<Case> {
  const model = new SequentialBank();
  const hot = random.int(0, 1) === 1;
  const count = hot ? 2 : random.int(3, 7);
  const accounts: string[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random.int(0, 9);
    const balance =
      roll === 0 ? 0n : roll === 1 && overflow ? maxBalance - BigInt(random.int(0, 50)) : BigInt(random.int(1, 120));
    const account = await bank.createAccount({ balance });
    accounts.push(account.id);
    model.balances.set(account.id, balance);
  }
  if (random.int(0, 3) === 0) {
    const closed = await bank.createAccount();
    await bank.closeAccount(closed.id);
    model.balances.set(closed.id, 0n);
    model.closed.add(closed.id);
    accounts.push(closed.id);
  }
  if (random.int(0, 4) === 0) accounts.push(randomUUID()); // an account that does not exist
  const items: MovementRequest[] = [];
  const length = random.int(1, 40);
  const pick = () => accounts[random.int(0, accounts.length - 1)]!;
  for (let i = 0; i < length; i++) {
    const roll = random.int(0, 99);
    const earlier = items.length > 0 ? items[random.int(0, items.length - 1)]! : undefined;
    if (earlier && roll < 10) {
      items.push(roll < 7 ? earlier : { ...earlier, amount: BigInt(earlier.amount) + 1n }); // the same id: a replay, or a conflict
      continue;
    }
    if (roll < 13) {
      const malformed: MovementRequest[] = [
        { id: randomUUID(), fromId: accounts[0]!, toId: accounts[0]!, amount: 1n },
        { id: randomUUID(), toId: accounts[0]!, amount: '0' },
        { id: 'nope', toId: accounts[0]!, amount: 1n },
        { id: randomUUID(), amount: 1n },
      ];
      items.push(malformed[random.int(0, malformed.length - 1)]!);
      continue;
    }
    const kind = random.int(0, 9);
    const fromId = kind < 2 ? null : pick();
    let toId = kind >= 2 && kind < 4 ? null : pick();
    if (toId !== null && toId === fromId) toId = accounts.find((a) => a !== fromId) ?? null;
    if (fromId === null && toId === null) continue;
    const drain = fromId !== null && model.balances.has(fromId) && random.int(0, 3) === 0;
    const huge = overflow && random.int(0, 19) === 0;
    const amount = drain
      ? model.balances.get(fromId!)! || 1n
      : huge
        ? maxBalance - BigInt(random.int(0, 5))
        : BigInt(random.int(1, 60));
    items.push({ id: randomUUID(), fromId, toId, amount });
  }
  return { model, accounts, items };
}

/** The database's side of a case: the balances of its accounts that exist. */
async function balancesOf(db: TestDatabase, accounts: readonly string[]): Promise<Map<string, bigint>> {
  const { rows } = await db.pool.query<{ id: string; balance: string }>(
    'SELECT id::TEXT AS id, balance FROM roachbank.accounts WHERE id = ANY($1::UUID[])',
    [accounts],
  );
  return new Map(rows.map((row) => [row.id, BigInt(row.balance)]));
}

/** The single call for a movement: deposit, withdraw or transfer. */
function call(bank: PgBank, { id, fromId, toId, amount }: CheckedMovement) {
  if (fromId === null) return bank.deposit(toId!, amount, { id });
  if (toId === null) return bank.withdraw(fromId, amount, { id });
  return bank.transfer({ id, fromId, toId, amount });
}

/** Runs `cases` cases, `parallel` at a time (each on accounts of its own). */
async function inParallel(cases: number, parallel: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < cases) await run(next++);
    }),
  );
}

describe(`group commit against a sequential model (seed ${seed}, ROACHBANK_MODEL_SEED=${seed} repeats it)`, () => {
  let db: TestDatabase;
  let serializableSessions: import('pg').Pool;
  let banks: PgBank[];
  before(async () => {
    db = await createTestDatabase('batch_model', { max: 12, statementIsolation: 'read committed' });
    await ensureSchema(db.pool);
    // The same bank on sessions that default to SERIALIZABLE: the literal BEGIN … COMMIT path.
    serializableSessions = createPool(db.url, { max: 4 });
    banks = [
      new PgBank(db.pool),
      new PgBank(db.pool, { batch: { maxSize: 3 } }),
      new PgBank(db.pool, { batch: { maxSize: 8, maxInFlight: 1 } }),
      new PgBank(serializableSessions, { batch: { maxSize: 16 } }),
    ];
  });
  after(async () => {
    await serializableSessions.end();
    await db.drop();
  });

  test('transferMany answers every item as running them one by one in input order would (2,000 cases)', async () => {
    let batchedItems = 0;
    await inParallel(2000, 8, async (index) => {
      const random = seededRandom(seed + index);
      const bank = banks[index % banks.length]!;
      const { model, accounts, items } = await openCase(bank, random, true);
      // Some ids are already journaled before the case's list runs.
      const history = items.filter((item) => item.id !== undefined && random.int(0, 9) === 0).slice(0, 3);
      const before = history.map((item) => model.apply(item));
      assert.deepEqual((await bank.transferMany(history)).map(answerOf), before, `case ${index}: history`);

      const results = await bank.transferMany(items);
      const expected = items.map((item) => model.apply(item));
      assert.deepEqual(results.map(answerOf), expected, `case ${index} (seed ${seed + index})`);
      const stored = await balancesOf(db, accounts);
      for (const [id, balance] of model.balances) assert.equal(stored.get(id), balance, `case ${index}: balance of ${id}`);
      batchedItems += items.length;
    });
    assert.ok(batchedItems > 20_000, `${batchedItems} items in all`);
    const report = await banks[0]!.verify();
    assert.ok(report.ok, 'verify after the cases');
  });

  test('concurrent calls in one batch answer as a serial order would: the refused first, then the accepted (1,000 cases)', async () => {
    let grouped = 0;
    await inParallel(1000, 4, async (index) => {
      const random = seededRandom(seed + 100_000 + index);
      const batches = { count: 0, largest: 0 };
      const bank = new PgBank(db.pool, {
        onBatch: (size) => {
          batches.count++;
          batches.largest = Math.max(batches.largest, size);
        },
      });
      const { model, accounts, items } = await openCase(bank, random, false);
      // What may share one batch: checked items that keep the batch rule.
      const rule = new BatchRule({ sequential: false });
      const batch: CheckedMovement[] = [];
      for (const request of items) {
        let item: CheckedMovement;
        try {
          item = movement(request);
        } catch {
          continue;
        }
        if (rule.admits(item)) {
          rule.add(item);
          batch.push(item);
        }
      }
      // Called in one tick, so they share one statement (unless one overflows and is isolated).
      const results = await Promise.all(
        batch.map((item) =>
          call(bank, item).then(
            (outcome): MovementResult => ({ ok: true, outcome }),
            (error: unknown): MovementResult => ({ ok: false, error }),
          ),
        ),
      );
      if (batch.length > 1 && batches.count === 1) grouped++;
      const answers = results.map(answerOf);
      const refused = batch.filter((_, i) => !answers[i]!.ok);
      const accepted = batch.filter((_, i) => answers[i]!.ok);
      const serial = new Map<CheckedMovement, Answer>();
      for (const item of [...refused, ...accepted]) serial.set(item, model.applyChecked(item));
      assert.deepEqual(
        answers,
        batch.map((item) => serial.get(item)),
        `case ${index} (seed ${seed + 100_000 + index})`,
      );
      const stored = await balancesOf(db, accounts);
      for (const [id, balance] of model.balances) assert.equal(stored.get(id), balance, `case ${index}: balance of ${id}`);
    });
    assert.ok(grouped > 500, `only ${grouped} cases ran as one batch`);
  });
});
