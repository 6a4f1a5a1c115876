import { randomUUID } from 'node:crypto';
import type { Bank } from 'roachbank';
import { RoachbankError } from 'roachbank';
import { cardFlow } from './card-flows.js';
import { seededRandom } from './seeded-random.js';
import { partnerOf, sumsByCurrency } from './workload-currencies.js';
import { countError, type WorkloadRunState } from './workload-run-state.js';

/** What the workers do: how many, between which accounts, how much, and when to stop. */
export interface TransferPlan {
  readonly concurrency: number;
  readonly readers: number;
  /** Every transfer between two of the first `hot` accounts. */
  readonly hot: number;
  readonly maxAmount: number;
  /** The share of operations, in percent, that are card flows (hold, then post, void or expiry). */
  readonly holdsPercent: number;
  /** Accounts spread over this many currencies (`runCurrency`); movements stay inside one. */
  readonly currencies: number;
  readonly seed: number;
  /** Whether another transfer may start. */
  readonly more: () => boolean;
  /** What every snapshot of the run's balances must sum to, per currency (`sumsByCurrency`). */
  readonly expectedTotals: readonly bigint[];
}

/**
 * Runs the transfer workers until `more()` says stop, with readers that check
 * every snapshot of the balances sums to the total while they run. Each worker
 * draws from its own seeded random stream, so a run is repeatable per seed.
 */
export async function runTransferWorkers(
  bank: Bank,
  ids: readonly string[],
  plan: TransferPlan,
  state: WorkloadRunState,
): Promise<void> {
  let writing = true;
  const readers = Array.from({ length: plan.readers }, () => readBalances(bank, ids, plan, state, () => writing));
  await Promise.all(Array.from({ length: plan.concurrency }, (_, i) => transferWorker(bank, ids, plan, state, i)));
  writing = false;
  await Promise.all(readers);
}

async function transferWorker(bank: Bank, ids: readonly string[], plan: TransferPlan, state: WorkloadRunState, index: number) {
  const random = seededRandom(plan.seed * 1000 + index);
  const { counts, deltas } = state;
  while (plan.more()) {
    counts.started++;
    const from = random.int(0, plan.hot - 1);
    const to = partnerOf(from, plan.hot, plan.currencies, random);
    const amount = BigInt(random.int(1, plan.maxAmount));
    if (plan.holdsPercent > 0 && random.int(0, 99) < plan.holdsPercent) {
      await cardFlow(bank, ids, from, to, amount, random, state);
      continue;
    }
    const id = randomUUID();
    const t0 = performance.now();
    try {
      await bank.transfer({ id, fromId: ids[from]!, toId: ids[to]!, amount });
      state.latency.record((performance.now() - t0) * 1000);
      counts.ops++;
      deltas[from]! -= amount;
      deltas[to]! += amount;
    } catch (error) {
      const code = error instanceof RoachbankError ? error.code : undefined;
      if (code === 'INSUFFICIENT_FUNDS') counts.refused++;
      else if (code === 'AMBIGUOUS_COMMIT') state.unknown.push({ id, from, to, amount });
      else countError(state, error);
    }
  }
}

/** Jepsen's bank reader: all balances in one snapshot, whose sum in each currency must be its total. */
async function readBalances(
  bank: Bank,
  ids: readonly string[],
  plan: TransferPlan,
  state: WorkloadRunState,
  writing: () => boolean,
) {
  while (writing()) {
    try {
      const balances = await bank.balances(ids);
      state.counts.reads++;
      const sums = sumsByCurrency(balances, plan.currencies);
      if (sums.some((sum, k) => sum !== plan.expectedTotals[k])) state.counts.readViolations++;
    } catch (error) {
      countError(state, error);
    }
  }
}
