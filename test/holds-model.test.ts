// The model check of holds, posts, voids, expiry, reversals and atomic groups (issue 24),
// beside batch-model.test.ts's check of plain movements: seeded random cases against a
// sequential in-memory bank written from the README, not from the product. Thousands of
// cases: every answer, and every balance, `held` and `available`, and every hold's
// status, must equal the model's. Expiry runs on the database's clock: a short hold
// (1 ms) is followed by a pause long enough that the next call finds it expired.
// Currencies and credit limits (issue 25) are in the model too: each case's accounts are
// in two currencies, some with a credit line, and debits are drawn exactly at an
// account's floor and one unit past it; limits are set and lowered between calls.
// References and metadata too: movements and holds carry one of two references, metadata
// or neither, an id used again carries the same or other ones (a replay or a conflict), a
// post and a reversal inherit what they settle's reference, and every journal row's and
// hold's annotation is compared with the model's.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Metadata } from '../packages/roachbank/src/bank/annotations.js';
import type { Account, Bank, MoveAnswer, MovementResult } from '../packages/roachbank/src/bank/bank.js';
import { BatchRule } from '../packages/roachbank/src/bank/batch-rule.js';
import { derivedId } from '../packages/roachbank/src/bank/ids.js';
import type { CheckedMovement } from '../packages/roachbank/src/bank/movement.js';
import { OrmBank } from '../packages/roachbank/src/bank/orm-bank.js';
import { PgBank } from '../packages/roachbank/src/bank/pg-bank.js';
import { PgStore } from '../packages/roachbank/src/bank/pg-store.js';
import { storeRetry } from '../packages/roachbank/src/bank/store-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { type SeededRandom, seededRandom } from '../packages/roachbank-app/src/workload/seeded-random.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const seed = Number(process.env.ROACHBANK_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const maxBalance = 2n ** 63n - 1n;

/** What a call answers, comparably: the row or hold it made or found, or the error's code and message. */
type Answer = Record<string, unknown>;
const refused = (code: string, message: string): Answer => ({ ok: false, code, message });

interface ModelHold {
  fromId: string;
  toId: string | null;
  amount: bigint;
  durationMs: number | null;
  status: 'pending' | 'posted' | 'voided';
  /** Its time has passed (a short hold, once the pause after it ran). */
  lapsed: boolean;
  postedAmount: bigint | null;
  transferId: string | null;
  reference: string | null;
  metadata: Metadata | null;
}
interface ModelRow {
  fromId: string | null;
  toId: string | null;
  amount: bigint;
  holdId: string | null;
  reversalOf: string | null;
  reference: string | null;
  metadata: Metadata | null;
}
/** What an operation may attach: a reference, metadata, both or neither. */
interface Tags {
  reference?: string;
  metadata?: Metadata;
}
/** The README's wording of what differs between two annotations. */
function annotationDifferences(had: Tags | ModelRow | ModelHold, asked: Tags | ModelRow | ModelHold): string[] {
  const shown = (r: string | null | undefined) => (r == null ? 'none' : JSON.stringify(r));
  const differences: string[] = [];
  if ((had.reference ?? null) !== (asked.reference ?? null))
    differences.push(`reference ${shown(had.reference)}, not ${shown(asked.reference)}`);
  if (!isDeepStrictEqual(had.metadata ?? null, asked.metadata ?? null)) differences.push('other metadata');
  return differences;
}
const kindOf = (m: { fromId: string | null; toId: string | null }) =>
  m.fromId === null ? 'deposit' : m.toId === null ? 'withdrawal' : 'transfer';

/** One operation of a case, as the test calls it. */
type Op =
  | ({ op: 'move'; id: string; fromId: string | null; toId: string | null; amount: bigint } & Tags)
  | ({ op: 'hold'; id: string; fromId: string; toId: string | null; amount: bigint; expiresInMs: number | null } & Tags)
  | ({ op: 'post'; holdId: string; id?: string; amount?: bigint } & Tags)
  | { op: 'void'; holdId: string }
  | ({ op: 'reverse'; transferId: string; id?: string; amount?: bigint } & Tags)
  | { op: 'limit'; accountId: string; limit: bigint }
  | { op: 'sweep' };

/** The bank, one call at a time, in memory: the specification of the README's holds and reversals. */
class SequentialBank {
  readonly balances = new Map<string, bigint>();
  readonly currencies = new Map<string, string>();
  readonly limits = new Map<string, bigint>();
  readonly closed = new Set<string>();
  readonly holds = new Map<string, ModelHold>();
  readonly journal = new Map<string, ModelRow>();
  readonly reversed = new Map<string, bigint>();
  /** Each account's running balances in the order its rows were written (the opening deposit's id is not known here: null). */
  readonly chains = new Map<string, { readonly id: string | null; readonly balanceAfter: bigint }[]>();

  held(account: string): bigint {
    let sum = 0n;
    for (const h of this.holds.values()) if (h.fromId === account && h.status === 'pending' && !h.lapsed) sum += h.amount;
    return sum;
  }
  available(account: string): bigint {
    return this.balances.get(account)! - this.held(account);
  }
  /** What a debit may take: the available balance down to −creditLimit. */
  spendable(account: string): bigint {
    return this.available(account) + (this.limits.get(account) ?? 0n);
  }
  isOpen(id: string): boolean {
    return this.balances.has(id) && !this.closed.has(id);
  }
  statusOf(h: ModelHold): string {
    return h.status === 'pending' && h.lapsed ? 'expired' : h.status;
  }

  /** The checks every movement shares, in order: source open, destination open, one currency, funds (when it debits), the credit's ceiling. */
  /** `debits`: checked against the source's available balance; `credits`: the destination receives now (a hold's only at its post). */
  accounts(fromId: string | null, toId: string | null, amount: bigint, debits: boolean, credits = true): Answer | undefined {
    for (const id of [fromId, toId])
      if (id !== null && !this.isOpen(id)) return refused('ACCOUNT_NOT_FOUND', `no open account ${id}`);
    if (fromId !== null && toId !== null && this.currencies.get(fromId) !== this.currencies.get(toId)) {
      return refused(
        'CURRENCY_MISMATCH',
        `accounts ${fromId} and ${toId} are in different currencies: move money between currencies as an atomic group through an exchange account in each`,
      );
    }
    if (debits && fromId !== null && this.spendable(fromId) < amount) {
      const limit = this.limits.get(fromId) ?? 0n;
      const credit = limit > 0n ? ` and a credit limit of ${limit}` : '';
      return refused(
        'INSUFFICIENT_FUNDS',
        `account ${fromId} has ${this.available(fromId)} available${credit}, cannot debit ${amount}`,
      );
    }
    if (credits && toId !== null && this.balances.get(toId)! + amount > maxBalance) {
      return refused('BALANCE_LIMIT', 'the balance would exceed 2^63 - 1');
    }
    return undefined;
  }

  journalRow(id: string, row: ModelRow): Answer {
    if (row.fromId !== null) this.balances.set(row.fromId, this.balances.get(row.fromId)! - row.amount);
    if (row.toId !== null) this.balances.set(row.toId, this.balances.get(row.toId)! + row.amount);
    for (const side of [row.fromId, row.toId])
      if (side !== null) this.chains.get(side)!.push({ id, balanceAfter: this.balances.get(side)! });
    this.journal.set(id, row);
    return rowAnswer(id, row, false);
  }

  /** The same id again: a replay of the same body, or IDEMPOTENCY_CONFLICT naming every difference. */
  again(id: string, asked: ModelRow): Answer {
    const had = this.journal.get(id)!;
    const differences: string[] = [];
    if (kindOf(had) !== kindOf(asked)) differences.push(`it was a ${kindOf(had)}, not a ${kindOf(asked)}`);
    else {
      if (had.fromId !== asked.fromId) differences.push(`source ${had.fromId}, not ${asked.fromId}`);
      if (had.toId !== asked.toId) differences.push(`destination ${had.toId}, not ${asked.toId}`);
    }
    if (had.amount !== asked.amount) differences.push(`amount ${had.amount}, not ${asked.amount}`);
    if (had.holdId !== asked.holdId) differences.push(`it posted hold ${had.holdId ?? 'none'}, not ${asked.holdId ?? 'none'}`);
    if (had.reversalOf !== asked.reversalOf)
      differences.push(`it reversed ${had.reversalOf ?? 'nothing'}, not ${asked.reversalOf ?? 'nothing'}`);
    differences.push(...annotationDifferences(had, asked));
    if (differences.length > 0)
      return refused('IDEMPOTENCY_CONFLICT', `transfer id ${id} was already used with another body: ${differences.join('; ')}`);
    return rowAnswer(id, had, true);
  }

  apply(op: Op): Answer {
    switch (op.op) {
      case 'move': {
        const row = { fromId: op.fromId, toId: op.toId, amount: op.amount, holdId: null, reversalOf: null, ...annotationOf(op) };
        if (this.journal.has(op.id)) return this.again(op.id, row);
        return this.accounts(op.fromId, op.toId, op.amount, true) ?? this.journalRow(op.id, row);
      }
      case 'hold': {
        const had = this.holds.get(op.id);
        if (had) {
          const differences: string[] = [];
          if (had.toId !== op.toId) differences.push(`destination ${had.toId ?? 'none'}, not ${op.toId ?? 'none'}`);
          if (had.amount !== op.amount) differences.push(`amount ${had.amount}, not ${op.amount}`);
          if (had.durationMs !== op.expiresInMs) {
            const shown = (ms: number | null) => (ms === null ? 'none' : `${ms} ms`);
            differences.push(`expiry ${shown(had.durationMs)}, not ${shown(op.expiresInMs)}`);
          }
          differences.push(...annotationDifferences(had, op));
          if (differences.length > 0)
            return refused(
              'IDEMPOTENCY_CONFLICT',
              `hold id ${op.id} was already used with another body: ${differences.join('; ')}`,
            );
          return holdAnswer(op.id, had, this.statusOf(had), true);
        }
        const refusal = this.accounts(op.fromId, op.toId, op.amount, true, false);
        if (refusal) return refusal;
        // With a credit limit, what is held may pass the balance, and INT8 bounds it as it does a balance.
        if (this.held(op.fromId) + op.amount > maxBalance) return refused('BALANCE_LIMIT', 'the balance would exceed 2^63 - 1');
        const hold: ModelHold = {
          fromId: op.fromId,
          toId: op.toId,
          amount: op.amount,
          durationMs: op.expiresInMs,
          status: 'pending',
          lapsed: false,
          postedAmount: null,
          transferId: null,
          ...annotationOf(op),
        };
        this.holds.set(op.id, hold);
        return holdAnswer(op.id, hold, 'pending', false);
      }
      case 'post': {
        const hold = this.holds.get(op.holdId);
        if (!hold) return refused('HOLD_NOT_FOUND', `no hold ${op.holdId}`);
        const id = op.id ?? derivedId('post', op.holdId);
        const amount = op.amount ?? hold.amount;
        // Its reference is the hold's unless it names one; its metadata only its own.
        const row = {
          fromId: hold.fromId,
          toId: hold.toId,
          amount,
          holdId: op.holdId,
          reversalOf: null,
          reference: op.reference ?? hold.reference,
          metadata: op.metadata ?? null,
        };
        const had = this.journal.get(id);
        if (had?.holdId === op.holdId && had.amount !== amount)
          return refused('HOLD_NOT_PENDING', `hold ${op.holdId} was posted for ${had.amount}`);
        if (had) return this.again(id, row);
        if (hold.status === 'posted') {
          if (hold.postedAmount !== amount)
            return refused('HOLD_NOT_PENDING', `hold ${op.holdId} was posted for ${hold.postedAmount}`);
          const posted = this.journal.get(hold.transferId!)!;
          return annotationDifferences(posted, row).length === 0
            ? rowAnswer(hold.transferId!, posted, true)
            : refused('HOLD_NOT_PENDING', `hold ${op.holdId} was posted for ${amount} with another reference or metadata`);
        }
        if (hold.lapsed && hold.status === 'pending')
          return refused('HOLD_EXPIRED', `hold ${op.holdId} expired at <time>: it holds nothing now`);
        if (hold.status === 'voided') return refused('HOLD_NOT_PENDING', `hold ${op.holdId} was voided`);
        if (amount > hold.amount)
          return refused('POST_EXCEEDS_HOLD', `hold ${op.holdId} reserves ${hold.amount}, cannot post ${amount}`);
        const refusal = this.accounts(hold.fromId, hold.toId, amount, false);
        if (refusal) return refusal;
        hold.status = 'posted';
        hold.postedAmount = amount;
        hold.transferId = id;
        return this.journalRow(id, row);
      }
      case 'void': {
        const hold = this.holds.get(op.holdId);
        if (!hold) return refused('HOLD_NOT_FOUND', `no hold ${op.holdId}`);
        if (hold.status === 'voided') return holdAnswer(op.holdId, hold, 'voided', true);
        if (hold.status === 'posted') return refused('HOLD_NOT_PENDING', `hold ${op.holdId} was posted for ${hold.postedAmount}`);
        if (hold.lapsed) return refused('HOLD_EXPIRED', `hold ${op.holdId} expired at <time>: it holds nothing now`);
        hold.status = 'voided';
        return holdAnswer(op.holdId, hold, 'voided', false);
      }
      case 'reverse': {
        const original = this.journal.get(op.transferId);
        if (!original) return refused('TRANSFER_NOT_FOUND', `no transfer ${op.transferId}`);
        const left = original.amount - (this.reversed.get(op.transferId) ?? 0n);
        let amount = op.amount;
        if (amount === undefined) {
          if (left > 0n) amount = left;
          else {
            const had = op.id === undefined ? undefined : this.journal.get(op.id);
            if (had?.reversalOf !== op.transferId)
              return refused('REVERSAL_EXCEEDS_ORIGINAL', `transfer ${op.transferId} has nothing left to reverse`);
            amount = had.amount;
          }
        }
        const id = op.id!;
        const row = {
          fromId: original.toId,
          toId: original.fromId,
          amount,
          holdId: null,
          reversalOf: op.transferId,
          reference: op.reference ?? original.reference,
          metadata: op.metadata ?? null,
        };
        if (this.journal.has(id)) return this.again(id, row);
        if (amount > left)
          return refused(
            'REVERSAL_EXCEEDS_ORIGINAL',
            `transfer ${op.transferId} has ${left} left to reverse, cannot reverse ${amount}`,
          );
        const refusal = this.accounts(row.fromId, row.toId, amount, true);
        if (refusal) return refusal;
        this.reversed.set(op.transferId, (this.reversed.get(op.transferId) ?? 0n) + amount);
        return this.journalRow(id, row);
      }
      case 'limit': {
        if (!this.isOpen(op.accountId)) return refused('ACCOUNT_NOT_FOUND', `no open account ${op.accountId}`);
        if (this.limits.get(op.accountId) === op.limit) return { ok: true, creditLimit: op.limit };
        const available = this.available(op.accountId);
        if (available < -op.limit) {
          return refused(
            'CREDIT_LIMIT_IN_USE',
            `account ${op.accountId} owes ${-available} (available ${available}): its credit limit cannot go below that, got ${op.limit}`,
          );
        }
        this.limits.set(op.accountId, op.limit);
        return { ok: true, creditLimit: op.limit };
      }
      case 'sweep':
        // It releases what already counts for nothing: no answer or balance changes.
        return { ok: true };
    }
  }
}

function rowAnswer(id: string, row: ModelRow, replayed: boolean): Answer {
  return { ok: true, replayed, id, kind: kindOf(row), ...row };
}
function holdAnswer(
  id: string,
  h: Pick<ModelHold, 'fromId' | 'toId' | 'amount' | 'reference' | 'metadata'>,
  status: string,
  replayed: boolean,
): Answer {
  const { fromId, toId, amount, reference, metadata } = h;
  return { ok: true, replayed, id, fromId, toId, amount, status, reference, metadata };
}
/** An operation's reference and metadata as a row or hold records them (null: none). */
const annotationOf = (op: Tags) => ({ reference: op.reference ?? null, metadata: op.metadata ?? null });
/** The tags an operation passes to the bank: only the ones it has. */
const tagsOf = (op: Tags): Tags => ({
  ...(op.reference === undefined ? {} : { reference: op.reference }),
  ...(op.metadata === undefined ? {} : { metadata: op.metadata }),
});
function failure(error: unknown): Answer {
  assert.ok(error instanceof RoachbankError, `expected a RoachbankError, got ${String(error)}`);
  return refused(error.code, error.message.replace(/expired at \S+:/, 'expired at <time>:'));
}
function answerOf(result: MovementResult<MoveAnswer | number | Account>): Answer {
  if (!result.ok) return failure(result.error);
  const outcome = result.outcome;
  if (typeof outcome === 'number') return { ok: true };
  if ('creditLimit' in outcome) return { ok: true, creditLimit: outcome.creditLimit };
  if ('hold' in outcome) return holdAnswer(outcome.hold.id, outcome.hold, outcome.hold.status, outcome.replayed);
  const { id, fromId, toId, amount, holdId, reversalOf, kind, reference, metadata } = outcome.transfer;
  return { ok: true, replayed: outcome.replayed, id, kind, fromId, toId, amount, holdId, reversalOf, reference, metadata };
}

/** Calls one operation on the bank. */
function call(bank: Bank, op: Op): Promise<MoveAnswer | number | Account> {
  switch (op.op) {
    case 'move':
      if (op.fromId === null) return bank.deposit(op.toId!, op.amount, { id: op.id, ...tagsOf(op) });
      if (op.toId === null) return bank.withdraw(op.fromId, op.amount, { id: op.id, ...tagsOf(op) });
      return bank.transfer({ id: op.id, fromId: op.fromId, toId: op.toId, amount: op.amount, ...tagsOf(op) });
    case 'hold':
      return bank.hold(op);
    case 'post':
      return bank.postHold(op.holdId, {
        ...(op.id ? { id: op.id } : {}),
        ...(op.amount ? { amount: op.amount } : {}),
        ...tagsOf(op),
      });
    case 'void':
      return bank.voidHold(op.holdId);
    case 'reverse':
      return bank.reverse(op.transferId, {
        ...(op.id ? { id: op.id } : {}),
        ...(op.amount ? { amount: op.amount } : {}),
        ...tagsOf(op),
      });
    case 'limit':
      return bank.setCreditLimit(op.accountId, op.limit);
    case 'sweep':
      return bank.releaseExpiredHolds();
  }
}
const settle = (promise: Promise<MoveAnswer | number | Account>) =>
  promise.then(
    (outcome): MovementResult<MoveAnswer | number | Account> => ({ ok: true, outcome }),
    (error: unknown): MovementResult<MoveAnswer | number | Account> => ({ ok: false, error }),
  );

/** A case's accounts, opened in the bank and in the model. */
async function openAccounts(bank: Bank, model: SequentialBank, random: SeededRandom, huge = true): Promise<string[]> {
  const accounts: string[] = [];
  for (let i = 0, n = random.int(2, 5); i < n; i++) {
    const balance = huge && random.int(0, 9) === 0 ? maxBalance - BigInt(random.int(0, 40)) : BigInt(random.int(0, 150));
    // Mostly one currency, so movements happen; sometimes another, so they are refused.
    const currency = random.int(0, 3) === 0 ? 'EUR' : 'USD';
    const creditLimit = random.int(0, 2) === 0 ? BigInt(random.int(1, 100)) : 0n;
    const account = await bank.createAccount({ balance, currency, creditLimit });
    model.balances.set(account.id, balance);
    model.chains.set(account.id, balance > 0n ? [{ id: null, balanceAfter: balance }] : []);
    model.currencies.set(account.id, currency);
    model.limits.set(account.id, creditLimit);
    accounts.push(account.id);
  }
  if (random.int(0, 4) === 0) {
    const closed = await bank.createAccount({ currency: 'USD' });
    await bank.closeAccount(closed.id);
    model.balances.set(closed.id, 0n);
    model.chains.set(closed.id, []);
    model.currencies.set(closed.id, 'USD');
    model.closed.add(closed.id);
    accounts.push(closed.id);
  }
  return accounts;
}

/** A random operation on the case's accounts, holds and journal rows, as the model stands. */
function nextOp(random: SeededRandom, model: SequentialBank, accounts: string[], huge = true): Op {
  const pick = <T>(list: readonly T[]) => list[random.int(0, list.length - 1)]!;
  const holds = [...model.holds.keys()];
  const rows = [...model.journal.keys()];
  const other = (id: string | null) => accounts.find((a) => a !== id) ?? null;
  const amount = () => (huge && random.int(0, 30) === 0 ? maxBalance - BigInt(random.int(0, 5)) : BigInt(random.int(1, 80)));
  /** A debit of `fromId`, now and then exactly at its floor or one unit past it. */
  const debit = (fromId: string | null) => {
    const floor = fromId !== null && model.isOpen(fromId) ? model.spendable(fromId) : 0n;
    const at = random.int(0, 5);
    // Only amounts the bank takes: from 1 to 2^63 − 1.
    if (floor > 0n && floor <= maxBalance && at === 0) return floor;
    if (floor >= 0n && floor < maxBalance && at === 1) return floor + 1n;
    return amount();
  };
  /** One of two references, metadata, both or neither: two draws often agree, so an id used again replays or conflicts. */
  const tags = (): Tags => {
    const which = random.int(0, 5);
    if (which === 0) return {};
    if (which === 1) return { reference: 'order-1' };
    if (which === 2) return { reference: 'order-2', metadata: { line: 1 } };
    if (which === 3) return { metadata: { line: 1, note: 'ü' } };
    // The same metadata as 3 with its keys in another order: the same request.
    if (which === 4) return { metadata: { note: 'ü', line: 1 } };
    return { reference: 'order-1', metadata: { note: 'ü', line: 1 } };
  };
  const roll = random.int(0, 99);
  if (roll < 25) {
    const kind = random.int(0, 4);
    const fromId = kind === 0 ? null : pick(accounts);
    const toId = kind === 1 ? null : other(fromId);
    if (fromId === null && toId === null) return { op: 'sweep' };
    const again = rows.length > 0 && random.int(0, 9) === 0 ? pick(rows) : undefined;
    return { op: 'move', id: again ?? randomUUID(), fromId, toId, amount: debit(fromId), ...tags() };
  }
  if (roll < 29) {
    const accountId = pick(accounts);
    const owed = model.isOpen(accountId) ? -model.available(accountId) : 0n;
    const limit = owed > 0n && random.int(0, 1) === 0 ? owed - BigInt(random.int(0, 1)) : BigInt(random.int(0, 100));
    return { op: 'limit', accountId, limit: limit < 0n ? 0n : limit };
  }
  if (roll < 50) {
    const fromId = pick(accounts);
    const again = holds.length > 0 && random.int(0, 9) === 0 ? model.holds.get(pick(holds)) : undefined;
    if (again) {
      const id = [...model.holds.entries()].find(([, h]) => h === again)![0];
      return {
        op: 'hold',
        id,
        fromId: again.fromId,
        toId: again.toId,
        amount: random.int(0, 1) ? again.amount : again.amount + 1n,
        expiresInMs: again.durationMs,
        ...(random.int(0, 1)
          ? tagsOf({
              ...(again.reference ? { reference: again.reference } : {}),
              ...(again.metadata ? { metadata: again.metadata } : {}),
            })
          : tags()),
      };
    }
    const expiresInMs = random.int(0, 3) === 0 ? 1 : random.int(0, 1) ? null : 3_600_000;
    return {
      op: 'hold',
      id: randomUUID(),
      fromId,
      toId: random.int(0, 2) === 0 ? null : other(fromId),
      amount: debit(fromId),
      expiresInMs,
      ...tags(),
    };
  }
  if (roll < 70 && holds.length > 0) {
    const holdId = pick(holds);
    const hold = model.holds.get(holdId)!;
    const given = random.int(0, 2);
    return {
      op: 'post',
      holdId,
      ...(random.int(0, 3) === 0 ? { id: randomUUID() } : {}),
      ...(given === 0
        ? {}
        : { amount: given === 1 ? hold.amount : BigInt(random.int(1, Number(hold.amount > 200n ? 200n : hold.amount) + 2)) }),
      ...(random.int(0, 2) === 0 ? tags() : {}),
    };
  }
  if (roll < 80 && holds.length > 0) return { op: 'void', holdId: pick(holds) };
  if (roll < 97 && rows.length > 0) {
    const transferId = pick(rows);
    const reversal = [...model.journal.entries()].find(([, r]) => r.reversalOf === transferId);
    const id = reversal && random.int(0, 2) === 0 ? reversal[0] : randomUUID();
    const given = random.int(0, 2);
    return {
      op: 'reverse',
      transferId,
      id,
      ...(given === 0 ? {} : { amount: BigInt(random.int(1, 60)) }),
      ...(random.int(0, 2) === 0 ? tags() : {}),
    };
  }
  return { op: 'sweep' };
}

/**
 * Compares every account's balance, held and available, its chain of running balances (its
 * whole statement: every row in the order the model wrote them, with the balance after
 * each) and its balance now, and every hold's status, with the model's.
 */
async function assertState(bank: Bank, model: SequentialBank, accounts: readonly string[], label: string): Promise<void> {
  for (const id of accounts) {
    const account = await bank.getAccount(id);
    assert.deepEqual(
      [account.balance, account.held, account.available, account.currency, account.creditLimit],
      [model.balances.get(id), model.held(id), model.available(id), model.currencies.get(id), model.limits.get(id) ?? 0n],
      `${label}: account ${id}`,
    );
    const chain = model.chains.get(id)!;
    const statement = await bank.statement(id, {
      from: '2000-01-01T00:00:00Z',
      to: '2999-01-01T00:00:00Z',
      page: { limit: 1000 },
    });
    assert.deepEqual(
      statement.lines.items.map((line, i) => [line.sequence, chain[i]?.id === null ? null : line.transferId, line.balanceAfter]),
      chain.map((leg, i) => [i + 1, leg.id, leg.balanceAfter]),
      `${label}: account ${id}'s chain`,
    );
    assert.deepEqual(
      [statement.opening.balance, statement.closing.balance, statement.movements],
      [0n, model.balances.get(id), chain.length],
      `${label}: account ${id}'s statement`,
    );
  }
  for (const [id, hold] of model.holds) {
    const { status, reference, metadata } = await bank.getHold(id);
    assert.deepEqual(
      [status, reference, metadata],
      [model.statusOf(hold), hold.reference, hold.metadata],
      `${label}: hold ${id}`,
    );
  }
  for (const [id, row] of model.journal) {
    const { reference, metadata } = await bank.getTransfer(id);
    assert.deepEqual([reference, metadata], [row.reference, row.metadata], `${label}: journal row ${id}`);
  }
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

describe(`holds, reversals and atomic groups against a sequential model (seed ${seed}, ROACHBANK_MODEL_SEED=${seed} repeats it)`, () => {
  let db: TestDatabase;
  let banks: Bank[];
  before(async () => {
    db = await createTestDatabase('holds_model', { max: 12 });
    await ensureSchema(db.pool);
    banks = [new PgBank(db.pool), new PgBank(db.pool, { batch: false }), new OrmBank(db.pool)];
  });
  after(() => db.drop());

  test('one call at a time: every answer, balance, held, available, running balance and hold status is the model’s (600 cases)', async () => {
    let calls = 0;
    await inParallel(600, 6, async (index) => {
      const random = seededRandom(seed + index);
      const bank = banks[index % banks.length]!;
      const model = new SequentialBank();
      const accounts = await openAccounts(bank, model, random);
      for (let step = 0, n = random.int(5, 25); step < n; step++) {
        const op = nextOp(random, model, accounts);
        const expected = model.apply(op);
        const actual = answerOf(await settle(call(bank, op)));
        const shown = JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? `${v}` : v));
        assert.deepEqual(actual, expected, `case ${index} step ${step} (seed ${seed + index}): ${shown}`);
        if (op.op === 'hold' && op.expiresInMs === 1 && actual.ok && !actual.replayed) {
          await sleep(3); // past its expiry on the database's clock before the next call
          model.holds.get(op.id)!.lapsed = true;
        }
        calls++;
      }
      await assertState(bank, model, accounts, `case ${index} (seed ${seed + index})`);
    });
    assert.ok(calls > 5000, `${calls} calls in all`);
    assert.ok((await banks[0]!.verify()).ok, 'verify after the cases');
  });

  test('atomic groups: every item or none, item i seeing the ones before it (600 cases)', async () => {
    await inParallel(600, 6, async (index) => {
      const random = seededRandom(seed + 200_000 + index);
      const bank = banks[index % banks.length]!;
      const model = new SequentialBank();
      const accounts = await openAccounts(bank, model, random);
      for (let round = 0; round < 3; round++) {
        const ops: (Op & { op: 'move' | 'hold' })[] = [];
        while (ops.length < random.int(1, 6)) {
          const op = nextOp(random, model, accounts);
          if (op.op === 'move' || (op.op === 'hold' && op.expiresInMs !== 1)) ops.push(op);
        }
        const items = ops.map((op) => (op.op === 'hold' ? { kind: 'hold' as const, ...op } : op));
        // The model: each item in order on a copy; the first refusal fails the group and leaves the model as it was.
        const trial = structuredClone(model);
        Object.setPrototypeOf(trial, SequentialBank.prototype);
        const answers = ops.map((op) => trial.apply(op));
        const failed = answers.findIndex((a) => !a.ok);
        const groupFailed = () =>
          refused(
            'GROUP_FAILED',
            `nothing of the group happened: item ${failed + 1} of ${ops.length} failed (${answers[failed]!.code})`,
          );
        const expected = failed < 0 ? answers : answers.map((a, i) => (i === failed ? a : groupFailed()));
        if (failed < 0) Object.assign(model, trial);
        const results = await bank.transferMany(items, { atomic: true });
        assert.deepEqual(results.map(answerOf), expected, `case ${index} round ${round} (seed ${seed + 200_000 + index})`);
        await assertState(bank, model, accounts, `case ${index} round ${round}`);
      }
    });
  });

  test('one batch statement of every kind answers as a serial order would: the refused first, then the accepted (600 cases)', async () => {
    const store = new PgStore(db.pool, storeRetry({}));
    await inParallel(600, 4, async (index) => {
      const random = seededRandom(seed + 400_000 + index);
      const bank = banks[0]!;
      const model = new SequentialBank();
      const accounts = await openAccounts(bank, model, random, false);
      // Balances stay far from 2^63 − 1 here: a batch's sums may take a credit that only some
      // serial orders would refuse (the order with its debits first never does), and
      // batch-model.test.ts checks how overflows are isolated.
      // A history to act on: holds (none expiring) and journal rows, made one call at a time.
      for (let step = 0, n = random.int(3, 12); step < n; step++) {
        const op = nextOp(random, model, accounts, false);
        if (op.op === 'hold' && op.expiresInMs === 1) continue;
        const expected = model.apply(op);
        if (op.op !== 'sweep')
          assert.deepEqual(answerOf(await settle(call(bank, op))), expected, `case ${index} history ${step}`);
      }
      // Then checked items of every kind that keep the batch rule, sent as one statement.
      const rule = new BatchRule({ sequential: false });
      const batch: { item: CheckedMovement; op: Op }[] = [];
      for (let tries = 0; tries < 30; tries++) {
        const item = await checkedItem(bank, nextOp(random, model, accounts, false));
        // A short hold would expire before the state is compared: expiry has the other tests.
        if (item?.kind === 'hold' && item.expiresInMs === 1) continue;
        if (item && rule.admits(item)) {
          rule.add(item);
          batch.push({ item, op: opOf(item) });
        }
      }
      let results: MovementResult<MoveAnswer>[];
      try {
        results = await store.moveBatch(batch.map((b) => b.item));
      } catch (error) {
        // A credit past INT8 fails the whole statement (the bank then isolates it): nothing moved.
        if (error instanceof RoachbankError && error.code === 'BALANCE_LIMIT') return;
        throw error;
      }
      const answers = results.map(answerOf);
      const order = [...batch.keys()].sort((a, b) => Number(answers[a]!.ok) - Number(answers[b]!.ok) || a - b);
      const serial = new Map(order.map((i) => [i, model.apply(batch[i]!.op)]));
      assert.deepEqual(
        answers,
        [...batch.keys()].map((i) => serial.get(i)),
        `case ${index} (seed ${seed + 400_000 + index})`,
      );
      await assertState(bank, model, accounts, `case ${index}`);
    });
    assert.ok((await banks[0]!.verify()).ok, 'verify after the cases');
  });
});

/** The operation a checked item is, with the id and amount the bank chose for it. */
function opOf(item: CheckedMovement): Op {
  const tags = tagsOf({
    ...(item.reference ? { reference: item.reference } : {}),
    ...(item.metadata ? { metadata: item.metadata } : {}),
  });
  switch (item.kind) {
    case 'hold':
      return {
        op: 'hold',
        id: item.id,
        fromId: item.fromId,
        toId: item.toId,
        amount: item.amount,
        expiresInMs: item.expiresInMs,
        ...tags,
      };
    case 'post':
      return { op: 'post', holdId: item.holdId, id: item.id, amount: item.amount, ...tags };
    case 'void':
      return { op: 'void', holdId: item.holdId };
    case 'reversal':
      return { op: 'reverse', transferId: item.reversalOf, id: item.id, amount: item.amount, ...tags };
    default:
      return { op: 'move', id: item.id, fromId: item.fromId, toId: item.toId, amount: item.amount, ...tags };
  }
}

/** The item the bank would build for an operation (reading the hold or row it names), or none when it would refuse before any. */
async function checkedItem(bank: Bank, op: Op): Promise<CheckedMovement | undefined> {
  const { holdMovement, movement, postMovement, reversalMovement, voidMovement } = await import(
    '../packages/roachbank/src/bank/movement.js'
  );
  try {
    switch (op.op) {
      case 'move':
        return movement(op);
      case 'hold':
        return holdMovement(op);
      case 'post': {
        const hold = await bank.getHold(op.holdId);
        return postMovement(hold, { id: op.id ?? derivedId('post', hold.id), amount: op.amount ?? hold.amount, ...tagsOf(op) });
      }
      case 'void':
        return voidMovement(await bank.getHold(op.holdId));
      case 'reverse': {
        if (op.amount === undefined) return undefined;
        return reversalMovement(await bank.getTransfer(op.transferId), {
          id: op.id ?? randomUUID(),
          amount: op.amount,
          ...tagsOf(op),
        });
      }
      case 'sweep':
      case 'limit':
        return undefined;
    }
  } catch {
    return undefined;
  }
}
