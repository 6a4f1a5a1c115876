import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { OrmTransaction } from '../orm/run-orm-transaction.js';
import type { Hold, JournalEntry, MoveAnswer } from './bank.js';
import { maxMoney } from './money.js';
import { type CheckedMovement, journalBody } from './movement.js';
import { decideMovement, type HoldWord, type JournalWord, type LockedSides } from './movement-decision.js';
import { holdFields, transferFields } from './orm-fields.js';
import {
  accountsTable as accounts,
  holdsTable as holds,
  reversedAmountsTable as reversedAmounts,
  transfersTable as transfers,
} from './product-schema.js';

// One movement of any kind on Drizzle, inside the caller's transaction: the locks, the
// decision, the writes (`moveOne`), as `moveBatchSql` does them for a batch.

/** Locks these accounts in id order, closed or not (the order every movement locks in). */
export async function lockOpenOrClosed(tx: OrmTransaction, ids: readonly string[]): Promise<void> {
  await tx
    .select({ id: accounts.id })
    .from(accounts)
    .where(inArray(accounts.id, [...ids]))
    .orderBy(asc(accounts.id))
    .for('update');
}

/** A source's expired holds still marked pending, by id, and their sum. */
interface Due {
  readonly ids: string[];
  total: bigint;
}

/**
 * Marks these holds expired (settled at their expiry), each re-checked under its lock as
 * still pending and past its expiry; answers the ones it marked. The caller holds their
 * accounts' locks and takes what they held off `held`.
 */
export function expireHolds(tx: OrmTransaction, ids: readonly string[]): Promise<{ fromId: string; amount: bigint }[]> {
  return tx
    .update(holds)
    .set({ status: 'expired', settledAt: sql`${holds.expiresAt}` })
    .where(and(inArray(holds.id, [...ids]), eq(holds.status, 'pending'), lte(holds.expiresAt, sql`now()`)))
    .returning({ fromId: holds.fromId, amount: holds.amount });
}

/**
 * What a movement's writer knows after its locks: its open accounts (with the source's
 * available balance: its expired pending holds locked and counted back), the hold a
 * post or void settles, and what is left of a reversal's original. Locks are taken as
 * `moveBatchSql` takes them: accounts in id order, then holds, then the reversed total.
 */
async function lockSides(
  tx: OrmTransaction,
  request: CheckedMovement,
): Promise<{
  locked: LockedSides;
  settling: Hold | undefined;
  original: bigint | undefined;
  /** The source's expired holds still marked pending, locked, and what they hold in all. */
  due: Due;
  currency: string;
  /** Its open accounts as locked: their balance and chain (sequence NULL: not yet back-filled). */
  chains: Map<string, { balance: bigint; sequence: number | null }>;
}> {
  const ids = [request.fromId, request.toId].filter((id) => id !== null).sort();
  const open = await tx
    .select({
      id: accounts.id,
      balance: accounts.balance,
      held: accounts.held,
      currency: accounts.currency,
      creditLimit: accounts.creditLimit,
      sequence: accounts.sequence,
    })
    .from(accounts)
    .where(and(inArray(accounts.id, ids), isNull(accounts.closedAt)))
    .orderBy(asc(accounts.id))
    .for('update');
  const source = open.find((a) => a.id === request.fromId);
  let fromAvailable: bigint | undefined;
  const due: Due = { ids: [], total: 0n };
  if (source) {
    if (source.held > 0n) {
      const expired = await tx
        .select({ id: holds.id, amount: holds.amount })
        .from(holds)
        .where(and(eq(holds.fromId, source.id), eq(holds.status, 'pending'), lte(holds.expiresAt, sql`now()`)))
        .for('update');
      for (const { id, amount } of expired) {
        due.ids.push(id);
        due.total += amount;
      }
    }
    fromAvailable = source.balance - source.held + due.total;
  }
  let settling: Hold | undefined;
  if (request.kind === 'post' || request.kind === 'void') {
    [settling] = await tx.select(holdFields).from(holds).where(eq(holds.id, request.holdId)).for('update');
  }
  let reversible: bigint | undefined;
  let original: bigint | undefined;
  if (request.kind === 'reversal') {
    const [row] = await tx.select({ amount: transfers.amount }).from(transfers).where(eq(transfers.id, request.reversalOf));
    const [total] = await tx
      .select({ reversed: reversedAmounts.reversed })
      .from(reversedAmounts)
      .where(eq(reversedAmounts.transferId, request.reversalOf))
      .for('update');
    original = row?.amount;
    reversible = original === undefined ? undefined : original - (total?.reversed ?? 0n);
  }
  const destination = open.find((a) => a.id === request.toId);
  const locked = {
    fromAvailable,
    fromCreditLimit: source?.creditLimit ?? 0n,
    currenciesMatch: !source || !destination || source.currency === destination.currency,
    toOpen: destination !== undefined,
    reversible,
  };
  const chains = new Map(open.map((a) => [a.id, { balance: a.balance, sequence: a.sequence }]));
  return { locked, settling, original, due, currency: (source ?? destination)?.currency ?? '', chains };
}

/**
 * One movement of any kind inside a transaction, as `decideMovement` decides it. What
 * is recorded under its id is read only when the checks fail (it might be a replay) or
 * the id turns out to be taken; a post or void reads its hold under its lock.
 */
export async function moveOne(tx: OrmTransaction, request: CheckedMovement): Promise<MoveAnswer> {
  const { locked, settling, original, due, currency, chains } = await lockSides(tx, request);
  // Statements of their own, after the locks: at READ COMMITTED they see every commit before them.
  const recorded = async (): Promise<{ journaled: JournalWord; hold: HoldWord; posted: JournalEntry | undefined }> => {
    const hold =
      request.kind === 'hold'
        ? ((await tx.select(holdFields).from(holds).where(eq(holds.id, request.id)))[0] ?? null)
        : (settling ?? null);
    const ids = [
      request.kind === 'hold' || request.kind === 'void' ? undefined : request.id,
      hold?.transferId ?? undefined,
    ].filter((id) => id !== undefined);
    const rows = ids.length === 0 ? [] : await tx.select(transferFields).from(transfers).where(inArray(transfers.id, ids));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return { journaled: byId.get(request.id) ?? null, hold, posted: hold?.transferId ? byId.get(hold.transferId) : undefined };
  };
  const unread = { journaled: 'unread' as const, hold: request.kind === 'hold' ? ('unread' as const) : (settling ?? null) };
  let decision = decideMovement(request, locked, unread);
  if (decision.action === 'read the journal') decision = decideMovement(request, locked, await recorded());
  if (decision.action === 'apply') {
    const applied = await apply(tx, request, { settling, original, due, currency, chains });
    if (applied) return applied;
    // The id was taken by a request that committed while this one waited on it.
    decision = decideMovement(request, locked, await recorded());
    if (decision.action === 'apply') throw new Error(`${request.kind} ${request.id} conflicted but cannot be read back`);
  }
  if (decision.action === 'replay') return { transfer: decision.transfer, replayed: true };
  if (decision.action === 'replay hold') return { hold: decision.hold, replayed: true };
  if (decision.action === 'refuse') throw decision.error;
  throw new Error(`${request.kind} ${request.id}: the journal was read and still not decided`);
}

/**
 * Writes a movement `decideMovement` applies, as `moveBatchSql` does: its journal row or
 * hold, the hold it settles, the reversed total, and one UPDATE of its accounts'
 * balance and held. Undefined, with nothing written, when its id was taken meanwhile.
 */
async function apply(
  tx: OrmTransaction,
  request: CheckedMovement,
  {
    settling,
    original,
    due,
    currency,
    chains,
  }: {
    settling: Hold | undefined;
    original: bigint | undefined;
    due: Due;
    currency: string;
    chains: Map<string, { balance: bigint; sequence: number | null }>;
  },
): Promise<MoveAnswer | undefined> {
  const ids = [request.fromId, request.toId].filter((id) => id !== null);
  // When its row is recorded: now, or its accounts' last row's time if later (as `stampSql`).
  const stamp = sql`(SELECT CASE WHEN max(moved_at) > now() THEN max(moved_at) ELSE now() END FROM roachbank.accounts WHERE ${inArray(accounts.id, ids)})`;
  /** Moves balance and held; a journal row also takes each account's next number and moves its time. */
  const shift = async (balance: { from: bigint; to: bigint }, held: bigint, journaled = false) => {
    await tx
      .update(accounts)
      .set({
        balance: sql`${accounts.balance} + CASE WHEN ${accounts.id} = ${request.fromId}::UUID THEN ${balance.from}::INT8 ELSE ${balance.to}::INT8 END`,
        held: sql`${accounts.held} + CASE WHEN ${accounts.id} = ${request.fromId}::UUID THEN ${held}::INT8 ELSE 0 END`,
        ...(journaled ? { sequence: sql`${accounts.sequence} + 1`, movedAt: stamp } : {}),
      })
      .where(inArray(accounts.id, ids));
  };
  /** An account's place after this movement's row: the next number and the balance, or none before its back-fill. */
  // A balance past INT8 is written as none: the row is then either not written (its id was
  // taken, and the journal answers) or its accounts' UPDATE fails with 22003 (BALANCE_LIMIT).
  const next = (id: string | null, delta: bigint) => {
    const chain = id === null ? undefined : chains.get(id);
    if (!chain || chain.sequence === null) return { sequence: null, balanceAfter: null };
    const balanceAfter = chain.balance + delta;
    return { sequence: chain.sequence + 1, balanceAfter: balanceAfter > maxMoney ? null : balanceAfter };
  };
  if (request.kind === 'hold') {
    const { id, fromId, toId, amount, expiresInMs, reference, metadata } = request;
    const expiresAt = expiresInMs === null ? null : sql`now() + ${expiresInMs}::INT8 * INTERVAL '1 millisecond'`;
    const [hold] = await tx
      .insert(holds)
      .values({ id, fromId, toId, amount, status: 'pending', expiresAt, reference, metadata })
      .onConflictDoNothing({ target: holds.id })
      .returning(holdFields);
    if (!hold) return undefined;
    // Its source's expired holds are marked so as it is placed, as `moveBatchSql` does:
    // `held` never carries them and the new one together (an overflow near 2^63 − 1).
    const expired = due.ids.length > 0 ? await expireHolds(tx, due.ids) : [];
    await shift({ from: 0n, to: 0n }, amount - expired.reduce((sum, h) => sum + h.amount, 0n));
    return { hold, replayed: false };
  }
  if (request.kind === 'void') {
    const [hold] = await tx
      .update(holds)
      .set({ status: 'voided', settledAt: sql`now()` })
      .where(eq(holds.id, request.holdId))
      .returning(holdFields);
    await shift({ from: 0n, to: 0n }, -settling!.amount);
    return { hold: hold!, replayed: false };
  }
  const source = next(request.fromId, -request.amount);
  const destination = next(request.toId, request.amount);
  const [transfer] = await tx
    .insert(transfers)
    .values({
      id: request.id,
      ...journalBody(request),
      currency,
      createdAt: stamp,
      fromSequence: source.sequence,
      fromBalanceAfter: source.balanceAfter,
      toSequence: destination.sequence,
      toBalanceAfter: destination.balanceAfter,
    })
    .onConflictDoNothing({ target: transfers.id })
    .returning(transferFields);
  if (!transfer) return undefined;
  const released = request.kind === 'post' ? -settling!.amount : 0n;
  await shift({ from: -request.amount, to: request.amount }, released, true);
  if (request.kind === 'post') {
    await tx
      .update(holds)
      .set({ status: 'posted', settledAt: sql`now()`, transferId: request.id, postedAmount: request.amount })
      .where(eq(holds.id, request.holdId));
  }
  if (request.kind === 'reversal') {
    await tx
      .insert(reversedAmounts)
      .values({ transferId: request.reversalOf, original: original!, reversed: request.amount })
      .onConflictDoUpdate({
        target: reversedAmounts.transferId,
        set: { reversed: sql`${reversedAmounts.reversed} + ${request.amount}::INT8` },
      });
  }
  return { transfer, replayed: false };
}
