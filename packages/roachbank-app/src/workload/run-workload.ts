import type { Bank } from 'roachbank';
import { BankCounters } from './bank-counters.js';
import { IntervalTicker } from './interval-ticker.js';
import type { LatencySummary } from './latency-recorder.js';
import { runTransferWorkers } from './transfer-workers.js';
import { auditRun } from './workload-audit.js';
import { classSize, runCurrency } from './workload-currencies.js';
import { newRunState } from './workload-run-state.js';

export interface WorkloadOptions {
  /** Accounts made for this run. */
  readonly accounts: number;
  /** Transfer workers. */
  readonly concurrency: number;
  /** Stop after this long (ms) … */
  readonly durationMs?: number;
  /** … or after this many transfers, whichever comes first. */
  readonly transfers?: number;
  /** Every transfer between two of the first `hot` accounts. */
  readonly hot?: number;
  readonly seed: number;
  /** Workers that read all balances in one snapshot and check their sum, like Jepsen's bank test. */
  readonly readers?: number;
  /** Opening balance of each account; default 1,000,000. */
  readonly initialBalance?: bigint;
  /** Amounts are 1 to this; default 100. */
  readonly maxAmount?: number;
  /** Percent of operations that are card flows: a hold, then a post (some refunded), a void or an expiry. Default 0. */
  readonly holdsPercent?: number;
  /** Accounts spread over this many currencies, movements inside one (needs `hot ≥ 2 ×` it). Default 1: no currency. */
  readonly currencies?: number;
}

export interface WorkloadEvents {
  onSetupProgress?(done: number, total: number): void;
  /** The accounts are open; the transfers start now. */
  onTransfersStart?(): void;
  /** The last transfer is answered; the audit starts now. */
  onTransfersEnd?(): void;
  /** Once a second while transfers run. */
  onInterval?(interval: IntervalStats): void;
  /** Retries of the bank's transactions so far (from the bank's onRetry hook). */
  retries?(): number;
  /** Ambiguous commits the bank met and resolved so far (from its onAmbiguous hook). */
  ambiguous?(): number;
  /** Batch statements the bank committed so far and the movements they carried (from its onBatch hook). */
  batches?(): BatchCount;
}

export interface BatchCount {
  readonly batches: number;
  readonly movements: number;
}

export interface IntervalStats extends LatencySummary {
  readonly elapsedS: number;
  readonly opsPerSec: number;
  readonly errors: number;
  readonly retries: number;
  /** Movements per batch statement in this interval; null when none was batched. */
  readonly meanBatchSize: number | null;
}

export interface InvariantReport {
  readonly ok: boolean;
  /** The bank's own verify(): every balance equals its journal, none negative, money conserved. */
  readonly verifyOk: boolean;
  /** Run accounts whose balance differs from opening + what the client saw acknowledged. */
  readonly mismatchedAccounts: number;
  /** Σ of the run's balances equals accounts × opening balance. */
  readonly conserved: boolean;
  readonly reads: number;
  /** Reads whose snapshot did not sum to the total. */
  readonly readViolations: number;
  /** Outcomes unknown to the client, looked up after the run. */
  readonly unresolvedLookedUp: number;
  readonly undecided: number;
  /** Holds the card flows placed, each read back after the run. */
  readonly holdsChecked: number;
  /** Holds whose status is not one their flow allows (posted when the client saw a void, say). */
  readonly holdsWrong: number;
}

export interface WorkloadSummary {
  /** Acknowledged transfers. */
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly retries: number;
  /** Movements per batch statement (group commit); null when the bank sent none (`--batch off`, the orm flavor). */
  readonly meanBatchSize: number | null;
  /** Failed transfers other than refusals. */
  readonly errors: number;
  /** Transfers refused for insufficient funds. */
  readonly refused: number;
  /** Ambiguous commits (resolved by the bank, or looked up after the run). */
  readonly ambiguous: number;
  readonly elapsedS: number;
  readonly lastError: string | null;
  readonly intervals: readonly IntervalStats[];
  readonly invariant: InvariantReport;
}

/**
 * Runs transfers against a bank the way `cockroach workload bank` and Jepsen's
 * bank test do, then audits the result:
 *
 * 1. Opens `accounts` accounts of its own with the same balance.
 * 2. `concurrency` workers transfer random amounts between random pairs (or
 *    between the `hot` first accounts) until the time or count is reached; the
 *    client keeps only each account's net change (bounded memory), and latency
 *    in HDR histograms; readers check that every snapshot sums to the total.
 * 3. The audit: the bank's verify(), each account's balance against what the
 *    client saw acknowledged, conservation, and every unknown outcome looked up.
 *
 * @example
 * const summary = await runWorkload(bank, { accounts: 1000, concurrency: 8, durationMs: 30_000, seed: 1 });
 * if (!summary.invariant.ok) process.exitCode = 1;
 */
export async function runWorkload(bank: Bank, options: WorkloadOptions, events: WorkloadEvents = {}): Promise<WorkloadSummary> {
  const initial = options.initialBalance ?? 1_000_000n;
  const currencies = options.currencies ?? 1;
  const hot = Math.min(options.hot ?? options.accounts, options.accounts);
  if (!(Number.isInteger(currencies) && currencies >= 1 && hot >= 2 * currencies))
    throw new RangeError(`currencies must be a whole number from 1 to half the hot accounts (${hot}), got ${currencies}`);
  const ids = await openAccounts(bank, options.accounts, initial, currencies, events);
  const state = newRunState(options.accounts);
  const counters = new BankCounters(events);
  events.onTransfersStart?.();
  const ticker = new IntervalTicker(state, counters, events.onInterval);
  const deadline = options.durationMs === undefined ? Infinity : ticker.started + options.durationMs;
  await runTransferWorkers(
    bank,
    ids,
    {
      concurrency: options.concurrency,
      readers: options.readers ?? 0,
      hot,
      currencies,
      maxAmount: options.maxAmount ?? 100,
      holdsPercent: options.holdsPercent ?? 0,
      seed: options.seed,
      more: () => performance.now() < deadline && (options.transfers === undefined || state.counts.started < options.transfers),
      expectedTotals: Array.from({ length: currencies }, (_, k) => initial * BigInt(classSize(k, options.accounts, currencies))),
    },
    state,
  );
  ticker.stop();
  events.onTransfersEnd?.();
  ticker.finish();
  const elapsedS = (performance.now() - ticker.started) / 1000;

  const invariant = await auditRun(bank, ids, initial, currencies, state);
  const total = state.latency.total();
  return {
    ops: state.counts.ops,
    opsPerSec: Math.round((state.counts.ops / elapsedS) * 10) / 10,
    p50Ms: total.p50Ms,
    p95Ms: total.p95Ms,
    p99Ms: total.p99Ms,
    maxMs: total.maxMs,
    retries: counters.retries(),
    meanBatchSize: counters.meanBatchSize(),
    errors: state.counts.errors,
    refused: state.counts.refused,
    ambiguous: counters.ambiguous() + state.unknown.length,
    elapsedS: Math.round(elapsedS * 100) / 100,
    lastError: state.lastError,
    intervals: ticker.intervals,
    invariant,
  };
}

/** Opens the run's accounts, 16 at a time. */
async function openAccounts(
  bank: Bank,
  count: number,
  balance: bigint,
  currencies: number,
  events: WorkloadEvents,
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  let done = 0;
  const opener = async () => {
    while (next < count) {
      const index = next++;
      const currency = runCurrency(index, currencies);
      ids[index] = (await bank.createAccount(currency ? { balance, currency } : { balance })).id;
      events.onSetupProgress?.(++done, count);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, count) }, opener));
  return ids;
}
