import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bank, HoldStatus } from 'roachbank';
import { RoachbankError } from 'roachbank';
import type { SeededRandom } from './seeded-random.js';
import { countError, type WorkloadRunState } from './workload-run-state.js';

/** How long a hold lasts when the flow means to let it expire. */
export const lapsingHoldMs = 30;

/**
 * One card-style flow between two run accounts, as a payments client runs it:
 * authorize (a hold), then capture all or part of it (a post), release it (a
 * void), or let it expire; some captures are refunded in part (a reversal). Every
 * acknowledged step is counted where the client saw it: a post or reversal in the
 * accounts' net changes, each hold's final status in `state.holds` for the audit;
 * a step with an unknown outcome is left to the audit, which asks the journal.
 */
export async function cardFlow(
  bank: Bank,
  ids: readonly string[],
  from: number,
  to: number,
  amount: bigint,
  random: SeededRandom,
  state: WorkloadRunState,
): Promise<void> {
  const lapsing = random.int(0, 9) === 0;
  const holdId = randomUUID();
  const placed = await step(state, () =>
    bank.hold({ id: holdId, fromId: ids[from]!, toId: ids[to]!, amount, expiresInMs: lapsing ? lapsingHoldMs : 60_000 }),
  );
  if (placed === 'refused') return;
  // Not acknowledged: it may or may not have been placed; it reserves money until it expires either way.
  if (placed !== 'acknowledged') {
    state.holds.push({ id: holdId, allowed: ['pending', 'expired'] });
    return;
  }
  if (lapsing) {
    await sleep(lapsingHoldMs * 2);
    state.holds.push({ id: holdId, allowed: ['expired'] });
    return;
  }
  const roll = random.int(0, 9);
  if (roll < 6) {
    const posted = random.int(0, 2) === 0 ? BigInt(random.int(1, Number(amount))) : amount;
    const postId = randomUUID();
    const outcome = await step(state, () => bank.postHold(holdId, { id: postId, amount: posted }));
    if (outcome === 'acknowledged') {
      state.deltas[from]! -= posted;
      state.deltas[to]! += posted;
      state.holds.push({ id: holdId, allowed: ['posted'] });
      if (random.int(0, 4) === 0) await refund(bank, postId, from, to, posted, random, state);
    } else {
      // Not acknowledged: only the journal knows whether it happened.
      state.unknown.push({ id: postId, from, to, amount: posted });
      state.holds.push({ id: holdId, allowed: ['posted', 'pending'] });
    }
  } else if (roll < 9) {
    const outcome = await step(state, () => bank.voidHold(holdId));
    state.holds.push({ id: holdId, allowed: outcome === 'acknowledged' ? ['voided'] : ['voided', 'pending'] });
  } else {
    state.holds.push({ id: holdId, allowed: ['pending'] });
  }
}

/** A refund of part of a capture: money back from `to` to `from`. */
async function refund(
  bank: Bank,
  postId: string,
  from: number,
  to: number,
  posted: bigint,
  random: SeededRandom,
  state: WorkloadRunState,
) {
  const amount = BigInt(random.int(1, Number(posted)));
  const id = randomUUID();
  const outcome = await step(state, () => bank.reverse(postId, { id, amount }));
  if (outcome === 'acknowledged') {
    state.deltas[to]! -= amount;
    state.deltas[from]! += amount;
  } else if (outcome !== 'refused') {
    state.unknown.push({ id, from: to, to: from, amount });
  }
}

/** One call of a flow, timed and counted: acknowledged, refused by the bank's state, or of unknown outcome. */
async function step(
  state: WorkloadRunState,
  call: () => Promise<unknown>,
): Promise<'acknowledged' | 'refused' | 'unknown' | 'failed'> {
  const t0 = performance.now();
  try {
    await call();
    state.latency.record((performance.now() - t0) * 1000);
    state.counts.ops++;
    return 'acknowledged';
  } catch (error) {
    const code = error instanceof RoachbankError ? error.code : undefined;
    if (code === 'INSUFFICIENT_FUNDS') {
      state.counts.refused++;
      return 'refused';
    }
    if (code === 'AMBIGUOUS_COMMIT') return 'unknown';
    countError(state, error);
    return 'failed';
  }
}

/** A hold the client placed, and the statuses its flow allows it to end in. */
export interface HoldExpectation {
  readonly id: string;
  readonly allowed: readonly HoldStatus[];
}
