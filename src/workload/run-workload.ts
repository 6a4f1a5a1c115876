import { randomUUID } from 'node:crypto';
import type { Bank } from '../bank/bank.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js';
import { seededRandom } from './seeded-random.js';

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
  const maxAmount = options.maxAmount ?? 100;
  const ids = await openAccounts(bank, options.accounts, initial, events);
  const hot = Math.min(options.hot ?? options.accounts, options.accounts);
  const deltas = new BigInt64Array(options.accounts);
  const latency = new LatencyRecorder();
  const unknown: { id: string; from: number; to: number; amount: bigint }[] = [];
  const counts = { started: 0, ops: 0, errors: 0, refused: 0, reads: 0, readViolations: 0 };
  let lastError: string | null = null;
  const expectedTotal = initial * BigInt(options.accounts);

  // Retries and ambiguous commits of the setup are not the run's.
  const retriesBefore = events.retries?.() ?? 0;
  const ambiguousBefore = events.ambiguous?.() ?? 0;
  const retries = () => (events.retries?.() ?? 0) - retriesBefore;
  // Copies: the hook may hand out the same counters object every time.
  const batchCount = (): BatchCount => {
    const count = events.batches?.() ?? { batches: 0, movements: 0 };
    return { batches: count.batches, movements: count.movements };
  };
  const batchesBefore = batchCount();
  const meanBatchSize = (from: BatchCount) => {
    const now = batchCount();
    const batches = now.batches - from.batches;
    return batches === 0 ? null : Math.round(((now.movements - from.movements) / batches) * 10) / 10;
  };
  const started = performance.now();
  const deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
  const more = () => performance.now() < deadline && (options.transfers === undefined || counts.started < options.transfers);

  const intervals: IntervalStats[] = [];
  let lastTick = started;
  let opsAtLastTick = 0;
  let batchesAtLastTick = batchesBefore;
  const tick = () => {
    const now = performance.now();
    const interval: IntervalStats = {
      ...latency.takeInterval(),
      elapsedS: Math.round((now - started) / 100) / 10,
      opsPerSec: Math.round(((counts.ops - opsAtLastTick) / ((now - lastTick) / 1000)) * 10) / 10,
      errors: counts.errors,
      retries: retries(),
      meanBatchSize: meanBatchSize(batchesAtLastTick),
    };
    lastTick = now;
    opsAtLastTick = counts.ops;
    batchesAtLastTick = batchCount();
    intervals.push(interval);
    events.onInterval?.(interval);
  };
  events.onTransfersStart?.();
  const ticker = setInterval(tick, 1000);

  const worker = async (index: number) => {
    const random = seededRandom(options.seed * 1000 + index);
    while (more()) {
      counts.started++;
      const from = random.int(0, hot - 1);
      let to = random.int(0, hot - 2);
      if (to >= from) to++;
      const amount = BigInt(random.int(1, maxAmount));
      const id = randomUUID();
      const t0 = performance.now();
      try {
        await bank.transfer({ id, fromId: ids[from]!, toId: ids[to]!, amount });
        latency.record((performance.now() - t0) * 1000);
        counts.ops++;
        deltas[from]! -= amount;
        deltas[to]! += amount;
      } catch (error) {
        const code = error instanceof RoachbankError ? error.code : undefined;
        if (code === 'INSUFFICIENT_FUNDS') counts.refused++;
        else if (code === 'AMBIGUOUS_COMMIT') unknown.push({ id, from, to, amount });
        else {
          counts.errors++;
          lastError = error instanceof Error ? error.message : String(error);
        }
      }
    }
  };
  let writing = true;
  const reader = async () => {
    while (writing) {
      try {
        const balances = await bank.balances(ids);
        counts.reads++;
        if (balances.reduce((sum, b) => sum + b, 0n) !== expectedTotal) counts.readViolations++;
      } catch (error) {
        counts.errors++;
        lastError = error instanceof Error ? error.message : String(error);
      }
    }
  };

  const readers = Array.from({ length: options.readers ?? 0 }, reader);
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  writing = false;
  await Promise.all(readers);
  clearInterval(ticker);
  events.onTransfersEnd?.();
  if (performance.now() - lastTick > 200 || intervals.length === 0) tick();
  const elapsedS = (performance.now() - started) / 1000;

  const invariant = await audit(bank, ids, initial, deltas, unknown, counts);
  const total = latency.total();
  return {
    ops: counts.ops,
    opsPerSec: Math.round((counts.ops / elapsedS) * 10) / 10,
    p50Ms: total.p50Ms,
    p95Ms: total.p95Ms,
    p99Ms: total.p99Ms,
    maxMs: total.maxMs,
    retries: retries(),
    meanBatchSize: meanBatchSize(batchesBefore),
    errors: counts.errors,
    refused: counts.refused,
    ambiguous: (events.ambiguous?.() ?? 0) - ambiguousBefore + unknown.length,
    elapsedS: Math.round(elapsedS * 100) / 100,
    lastError,
    intervals,
    invariant,
  };
}

/** Opens the run's accounts, 16 at a time. */
async function openAccounts(bank: Bank, count: number, balance: bigint, events: WorkloadEvents): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  let done = 0;
  const opener = async () => {
    while (next < count) {
      const index = next++;
      ids[index] = (await bank.createAccount({ balance })).id;
      events.onSetupProgress?.(++done, count);
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, count) }, opener));
  return ids;
}

async function audit(
  bank: Bank,
  ids: readonly string[],
  initial: bigint,
  deltas: BigInt64Array,
  unknown: readonly { id: string; from: number; to: number; amount: bigint }[],
  counts: { reads: number; readViolations: number },
): Promise<InvariantReport> {
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
  const [verify, balances] = await Promise.all([bank.verify({ asOf: 'latest' }), bank.balances(ids)]);
  let mismatchedAccounts = 0;
  let sum = 0n;
  balances.forEach((balance, i) => {
    sum += balance;
    if (balance !== initial + deltas[i]!) mismatchedAccounts++;
  });
  const conserved = sum === initial * BigInt(ids.length);
  const ok = verify.ok && mismatchedAccounts === 0 && conserved && counts.readViolations === 0 && undecided === 0;
  return {
    ok,
    verifyOk: verify.ok,
    mismatchedAccounts,
    conserved,
    reads: counts.reads,
    readViolations: counts.readViolations,
    unresolvedLookedUp: unknown.length,
    undecided,
  };
}
