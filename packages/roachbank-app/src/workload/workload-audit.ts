import type { Bank } from 'roachbank';
import { RoachbankError } from 'roachbank';
import type { InvariantReport } from './run-workload.js';
import { classSize, sumsByCurrency } from './workload-currencies.js';
import type { WorkloadRunState } from './workload-run-state.js';

/**
 * The audit after a run: every unknown outcome looked up in the journal (and
 * counted where it happened), then the bank's verify() at the present, each
 * account's balance against what the client saw acknowledged, and conservation.
 */
export async function auditRun(
  bank: Bank,
  ids: readonly string[],
  initial: bigint,
  currencies: number,
  state: WorkloadRunState,
): Promise<InvariantReport> {
  const { deltas, unknown, counts } = state;
  let undecided = 0;
  for (const transfer of unknown) {
    try {
      await bank.getTransfer(transfer.id);
      deltas[transfer.from]! -= transfer.amount;
      deltas[transfer.to]! += transfer.amount;
    } catch (error) {
      if (!(error instanceof RoachbankError && error.code === 'TRANSFER_NOT_FOUND')) undecided++;
    }
  }
  const heldWrong = await auditHolds(bank, state);
  const [verify, balances] = await Promise.all([bank.verify({ asOf: 'latest' }), bank.balances(ids)]);
  let mismatchedAccounts = 0;
  balances.forEach((balance, i) => {
    if (balance !== initial + deltas[i]!) mismatchedAccounts++;
  });
  // Conserved in each currency: its accounts hold what they opened with, in all.
  const conserved = sumsByCurrency(balances, currencies).every(
    (sum, k) => sum === initial * BigInt(classSize(k, ids.length, currencies)),
  );
  const ok =
    verify.ok &&
    mismatchedAccounts === 0 &&
    conserved &&
    counts.readViolations === 0 &&
    undecided === 0 &&
    heldWrong.length === 0;
  return {
    ok,
    verifyOk: verify.ok,
    mismatchedAccounts,
    conserved,
    reads: counts.reads,
    readViolations: counts.readViolations,
    unresolvedLookedUp: unknown.length,
    undecided,
    holdsChecked: state.holds.length,
    holdsWrong: heldWrong.length,
  };
}

/** Every hold a card flow placed, read back: its status must be one its flow allows. The ids of those that are not. */
async function auditHolds(bank: Bank, state: WorkloadRunState): Promise<string[]> {
  const wrong: string[] = [];
  let next = 0;
  const reader = async () => {
    while (next < state.holds.length) {
      const { id, allowed } = state.holds[next++]!;
      try {
        if (!allowed.includes((await bank.getHold(id)).status)) wrong.push(id);
      } catch (error) {
        // A hold whose placing was never acknowledged may not exist; any other absence is wrong.
        const absent = error instanceof RoachbankError && error.code === 'HOLD_NOT_FOUND';
        if (!(absent && allowed.includes('pending') && allowed.includes('expired'))) wrong.push(id);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  return wrong;
}
