import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Bank } from '../../packages/roachbank/src/bank/bank.js';
import { createBank } from '../../packages/roachbank/src/bank/create-bank.js';
import { OrmBank } from '../../packages/roachbank/src/bank/orm-bank.js';
import { createPool } from '../../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../../packages/roachbank/src/db/migrate.js';
import { RoachbankError } from '../../packages/roachbank/src/errors/roachbank-error.js';
import { sqlState } from '../../packages/roachbank/src/txn/classify-error.js';
import { type SeededRandom, seededRandom } from '../../packages/roachbank-app/src/workload/seeded-random.js';
import { auditChaos, type ChaosAudit, type HoldExpectation, type TransferRequest } from './chaos-audit.js';
import { type FaultRates, faultPlan } from './fault-plan.js';
import { type PrivateServer, startPrivateServer } from './private-server.js';
import { startWireProxy, type WireProxy } from './wire-proxy.js';

export interface ChaosOptions {
  /** Seeds the proxy's fault decisions and every worker's choice of accounts, amounts and ids. */
  readonly seed: number;
  /** How long the timed faults run (in cycles of `cycleMs`); the workers stop then, unless `enough` keeps them going. */
  readonly durationMs: number;
  /**
   * The work a run must get done to count: when given, the workers go on after
   * `durationMs` (the proxy's faults still on) until this much is acknowledged, and
   * stop at `longestMs` at the latest. A slow or loaded machine then runs longer
   * instead of reporting too little work; the floor itself is the caller's to check.
   */
  readonly enough?: { readonly acknowledged: number; readonly eachKind: number; readonly longestMs: number };
  readonly accounts: number;
  readonly openingBalance: bigint;
  /**
   * Workers per way of moving money: `pg` (one prepared statement per movement on a
   * READ COMMITTED session), `pgBatch` (the `BEGIN; ...; COMMIT` batch of a
   * SERIALIZABLE session), `grouped` (group commit: the workers share one bank, whose
   * movements go out in batch statements), `many` (transferMany of a few movements),
   * `orm` (Drizzle, five round trips in a transaction), `timeout` (one statement per
   * movement on a pool with a client-side `query_timeout`, so a statement that waits on
   * a held row lock is given up by the client and commits late on the server), `twin`
   * (each transfer sent at once by the group-commit bank here and by a second process,
   * test/support/chaos-twin.ts, with the same id), `holds` (a hold, then its post or
   * void, on the group-commit bank and on the orm flavor in turn), `reversals` (part of an
   * acknowledged transfer moved back), `atomic` (transferMany groups of 2 or 3 with
   * `atomic: true`, on the single-statement pg bank and on the orm flavor in turn).
   */
  readonly workers: {
    readonly pg: number;
    readonly pgBatch: number;
    readonly grouped: number;
    readonly many: number;
    readonly orm: number;
    readonly timeout: number;
    readonly twin: number;
    readonly holds: number;
    readonly reversals: number;
    readonly atomic: number;
  };
  /**
   * The faults come in cycles of at least this length (40 s or more, so they do not
   * overlap): two short timeout windows, four refusals and three crashes each.
   */
  readonly cycleMs: number;
  readonly rates: FaultRates;
  readonly log: (line: string) => void;
}

/** Faults injected per class: each must be above 0 for the run to count. */
export interface InjectedFaults {
  cutAtMessage: number;
  cutBeforeCommit: number;
  cutAfterCommit: number;
  delayed: number;
  refusedConnections: number;
  serverCrashes: number;
  backendsTerminated: number;
  statementTimeouts: number;
  idleInTransactionTimeouts: number;
  /** Row locks held by another session long enough to trip the client-side query_timeout. */
  lockHolds: number;
  /** Statements the client gave up on (query_timeout) that the server may still commit. */
  clientQueryTimeouts: number;
  /** Transfers sent with the same id at once by this process and the twin process. */
  twinSubmissions: number;
}

export interface ChaosReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: InjectedFaults;
  readonly transfers: {
    readonly submitted: number;
    readonly acknowledged: number;
    /** Failures the bank reported, by error code. */
    readonly failed: Record<string, number>;
    /** Retries the retry core made (40001, 40P01, connections lost before COMMIT). */
    readonly retries: number;
    /** What the hold, reversal and atomic workers got done: holds placed, posts and reversals acknowledged, groups sent. */
    readonly kinds: { readonly holds: number; readonly posts: number; readonly reversals: number; readonly groups: number };
    /** Ambiguous commits the bank met and resolved itself by resubmitting. */
    readonly ambiguousResolvedByBank: number;
    /** AMBIGUOUS_COMMIT answers (the database stayed away), resolved after the run. */
    readonly ambiguousAfterRun: {
      readonly total: number;
      readonly committed: number;
      readonly appliedOnResubmit: number;
      readonly failed: number;
    };
  };
  /** After each fault healed, how long until the next transfer was acknowledged. */
  readonly recovery: { readonly heals: number; readonly worstMs: number };
  readonly audit: ChaosAudit;
  /** Every broken promise of the audit, plus fault classes never exercised: empty when the run passed. */
  readonly problems: string[];
}

const statementTimeout = '150ms';
const clientQueryTimeoutMs = 200;
/** A twin worker leaves a pair after each round of unknown outcome (about one per healed fault). */
const twinPairsPerWorker = (durationMs: number) => 10 + Math.ceil(durationMs / 3000);
const idleInTransactionTimeout = '50ms';
const stallLimitMs = 2000;

/**
 * Jepsen's bank test on roachbank: workers of every flavor move money between
 * a few accounts through the fault proxy while the server is crashed, backends
 * are terminated, new connections refused and short timeouts switched on; then
 * the network heals, every ambiguous transfer is resolved by resubmitting it,
 * and the audit checks that no money was lost, made or moved twice.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const server = await startPrivateServer();
  const admin = new pg.Pool({ connectionString: server.url, application_name: 'chaos-admin', max: 4 });
  admin.on('error', () => {});
  const proxy = await startWireProxy(server.port);
  const pools: pg.Pool[] = [];
  let twin: TwinProcess | undefined;
  try {
    await ensureSchema(admin);
    const direct = createBank(admin);
    const accounts: string[] = [];
    for (let i = 0; i < options.accounts; i++)
      accounts.push((await direct.createAccount({ balance: options.openingBalance })).id);
    // Each twin worker's own pairs of accounts, which nobody else touches (see runTwinWorker).
    const twinPairs = Array.from({ length: options.workers.twin }, () => [] as [string, string][]);
    for (const pairs of twinPairs) {
      for (let i = 0; i < twinPairsPerWorker(options.enough?.longestMs ?? options.durationMs); i++) {
        const [a, b] = [
          await direct.createAccount({ balance: options.openingBalance }),
          await direct.createAccount({ balance: options.openingBalance }),
        ];
        pairs.push([a.id, b.id]);
      }
    }

    let retries = 0;
    let ambiguousResolvedByBank = 0;
    const hooks = { onRetry: () => retries++, onAmbiguous: () => ambiguousResolvedByBank++ };
    const faults = { serverCrashes: 0, backendsTerminated: 0, lockHolds: 0, clientQueryTimeouts: 0, twinSubmissions: 0 };
    const through = (isolation?: 'read committed', url = proxy.urlThrough(server.url)) => {
      const pool = createPool(url, { max: 8, ...(isolation ? { statementIsolation: isolation } : {}) });
      pools.push(pool);
      return pool;
    };
    const withQueryTimeout = new URL(proxy.urlThrough(server.url));
    withQueryTimeout.searchParams.set('query_timeout', String(clientQueryTimeoutMs));
    const timeoutHooks = {
      ...hooks,
      batch: false as const,
      onAmbiguous: (error: Error) => {
        hooks.onAmbiguous();
        if (/Query read timeout/.test(String(error.cause instanceof Error ? error.cause.message : error.message)))
          faults.clientQueryTimeouts++;
      },
    };
    const single = { ...hooks, batch: false as const };
    const grouped = createBank(through('read committed'), hooks);
    const twins = startTwinProcess(proxy.urlThrough(server.url));
    twin = twins;
    const singleBank = createBank(through('read committed'), single);
    const ormBank = new OrmBank(through('read committed'), hooks);
    const half = (n: number) => Math.ceil(n / 2);
    const banks: Array<{ bank: Bank; workers: number; kind?: 'many' | 'twin' | 'holds' | 'reversals' | 'atomic' }> = [
      { bank: singleBank, workers: options.workers.pg },
      { bank: createBank(through(), single), workers: options.workers.pgBatch },
      { bank: grouped, workers: options.workers.grouped },
      { bank: createBank(through('read committed'), hooks), workers: options.workers.many, kind: 'many' },
      { bank: ormBank, workers: options.workers.orm },
      {
        bank: createBank(through('read committed', withQueryTimeout.toString()), timeoutHooks),
        workers: options.workers.timeout,
      },
      { bank: grouped, workers: options.workers.twin, kind: 'twin' },
      { bank: grouped, workers: half(options.workers.holds), kind: 'holds' },
      { bank: ormBank, workers: options.workers.holds - half(options.workers.holds), kind: 'holds' },
      { bank: grouped, workers: options.workers.reversals, kind: 'reversals' },
      { bank: singleBank, workers: half(options.workers.atomic), kind: 'atomic' },
      { bank: ormBank, workers: options.workers.atomic - half(options.workers.atomic), kind: 'atomic' },
    ];

    const plan = faultPlan(options.seed, options.rates);
    proxy.setPolicy(plan.policy);
    const ledger = new ClientLedger();
    const started = performance.now();
    const deadline = workersStop(options, started, ledger);
    const heals: number[] = [];

    let workerIndex = 0;
    let twinIndex = 0;
    const workers = banks.flatMap(({ bank, workers: count, kind }) =>
      Array.from({ length: count }, () => {
        const random = seededRandom(options.seed * 1000 + ++workerIndex);
        if (kind === 'twin') {
          const pairs = twinPairs[twinIndex++]!;
          return runTwinWorker(bank, twins, pairs, options.openingBalance, random, deadline, ledger, faults);
        }
        const run = { many: runManyWorker, holds: runHoldWorker, reversals: runReversalWorker, atomic: runAtomicWorker }[
          kind ?? 'many'
        ];
        return (kind === undefined ? runWorker : run)(bank, accounts, random, deadline, ledger);
      }),
    );
    const schedule = runFaultSchedule({ options, server, proxy, admin, started, heals, faults, accounts });
    await Promise.all([...workers, schedule]);
    await twins.close();

    // Heal everything, then look for leaks before anyone touches the pools again.
    plan.enabled = false;
    proxy.refuseConnections(false);
    const leaks = await connectionLeaks(admin, pools);

    const ambiguousAfterRun = await resolveUnknowns(createBank(directPool(server.url, pools)), ledger);
    const faultsInjected: InjectedFaults = {
      ...plan.injected,
      refusedConnections: proxy.refused,
      ...faults,
      statementTimeouts: await server.countLogLines(/canceling statement due to statement timeout/),
      idleInTransactionTimeouts: await server.countLogLines(/terminating connection due to idle-in-transaction timeout/),
    };
    const audit = await auditChaos(admin, direct, {
      accounts: [...accounts, ...twinPairs.flat(2)],
      openingBalance: options.openingBalance,
      acknowledged: ledger.acknowledged,
      failed: ledger.failed,
      failedCodes: ledger.failedCodes,
      unknownLeft: ledger.unknown.size + ledger.unknownGroups.length,
      holds: ledger.holds,
      groups: ledger.groups,
      ...leaks,
    });
    const worstMs = Math.max(0, ...heals.map((healedAt) => ledger.firstAckAfter(healedAt) - healedAt));
    const problems = [...audit.problems];
    for (const [fault, count] of Object.entries(faultsInjected)) {
      if (count === 0) problems.push(`fault class ${fault} was never injected`);
    }
    if (worstMs > stallLimitMs) problems.push(`no transfer acknowledged for ${Math.round(worstMs)} ms after a fault healed`);
    return {
      seed: options.seed,
      durationMs: Math.round(performance.now() - started),
      faults: faultsInjected,
      transfers: {
        submitted: ledger.submitted,
        acknowledged: ledger.acknowledged.size,
        failed: ledger.failureCounts,
        kinds: kindsDone(ledger),
        retries,
        ambiguousResolvedByBank,
        ambiguousAfterRun,
      },
      recovery: { heals: heals.length, worstMs: Math.round(worstMs) },
      audit,
      problems,
    };
  } finally {
    await twin?.close();
    await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
    await admin.end().catch(() => {});
    await proxy.close();
    await server.remove();
  }
}

/** What the client was told about every transfer it submitted. */
class ClientLedger {
  submitted = 0;
  readonly acknowledged = new Map<string, TransferRequest>();
  readonly failed = new Map<string, TransferRequest>();
  readonly failedCodes = new Map<string, string>();
  readonly unknown = new Map<string, TransferRequest>();
  /** Atomic groups the client sent, by their items' ids, and those of unknown outcome (resubmitted whole after the run). */
  readonly groups: string[][] = [];
  unknownGroups: TransferRequest[][] = [];
  /** Every hold placed, with the statuses what the client was told allows. */
  readonly holds: HoldExpectation[] = [];
  readonly failureCounts: Record<string, number> = {};
  /** When each acknowledgement arrived, ascending. */
  readonly #ackTimes: number[] = [];

  /** The last 50 plain transfers acknowledged: what the reversal workers reverse. */
  readonly recentTransfers: TransferRequest[] = [];

  acknowledge(request: TransferRequest): void {
    this.acknowledged.set(request.id, request);
    this.#ackTimes.push(performance.now());
    if (!request.holdId && !request.reversalOf) {
      this.recentTransfers.push(request);
      if (this.recentTransfers.length > 50) this.recentTransfers.shift();
    }
  }

  /** An unknown outcome learnt after the run: acknowledged, but not evidence that the pool had recovered. */
  resolve(request: TransferRequest): void {
    this.unknown.delete(request.id);
    this.acknowledged.set(request.id, request);
  }

  fail(request: TransferRequest, code: string): void {
    this.failed.set(request.id, request);
    this.failedCodes.set(request.id, code);
    this.failureCounts[code] = (this.failureCounts[code] ?? 0) + 1;
  }

  /** The first acknowledgement at or after `time`; Infinity if none came. */
  firstAckAfter(time: number): number {
    let low = 0;
    let high = this.#ackTimes.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.#ackTimes[middle] as number) < time) low = middle + 1;
      else high = middle;
    }
    return this.#ackTimes[low] ?? Number.POSITIVE_INFINITY;
  }
}

/** What the hold, reversal and atomic workers got done so far. */
function kindsDone(ledger: ClientLedger): ChaosReport['transfers']['kinds'] {
  return {
    holds: ledger.holds.filter((h) => !h.allowed.includes('absent')).length,
    posts: [...ledger.acknowledged.values()].filter((r) => r.holdId).length,
    reversals: [...ledger.acknowledged.values()].filter((r) => r.reversalOf).length,
    groups: ledger.groups.length,
  };
}

/** True once the workers should stop: see `ChaosOptions.enough`. */
type Deadline = () => boolean;

function workersStop(options: ChaosOptions, started: number, ledger: ClientLedger): Deadline {
  const { enough } = options;
  let stopped = false;
  return () => {
    if (stopped) return true;
    const elapsed = performance.now() - started;
    if (elapsed < options.durationMs) return false;
    stopped =
      enough === undefined ||
      elapsed >= enough.longestMs ||
      (ledger.acknowledged.size >= enough.acknowledged &&
        Object.values(kindsDone(ledger)).every((count) => count >= enough.eachKind));
    if (stopped && enough !== undefined)
      options.log(`${(elapsed / 1000).toFixed(1)}s workers stop: ${ledger.acknowledged.size} acknowledged`);
    return stopped;
  };
}

function randomTransfer(accounts: string[], random: SeededRandom): TransferRequest {
  const from = random.int(0, accounts.length - 1);
  const to = (from + random.int(1, accounts.length - 1)) % accounts.length;
  return {
    id: seededUuid(random),
    fromId: accounts[from] as string,
    toId: accounts[to] as string,
    amount: BigInt(random.int(1, 300)),
  };
}

/** What the client learnt of one transfer: acknowledged, failed, or unknown (AMBIGUOUS_COMMIT). */
function record(ledger: ClientLedger, request: TransferRequest, error?: unknown): void {
  if (error === undefined) ledger.acknowledge(request);
  else if (error instanceof RoachbankError && error.code === 'AMBIGUOUS_COMMIT') ledger.unknown.set(request.id, request);
  else ledger.fail(request, errorCode(error));
}

async function runWorker(
  bank: Bank,
  accounts: string[],
  random: SeededRandom,
  deadline: Deadline,
  ledger: ClientLedger,
): Promise<void> {
  while (!deadline()) {
    const request = randomTransfer(accounts, random);
    ledger.submitted++;
    try {
      await bank.transfer(request);
      record(ledger, request);
    } catch (error) {
      record(ledger, request, error);
    }
  }
}

/**
 * Each transfer sent at once by this bank and by the twin process, with the same id,
 * on exact-drain amounts: the worker owns its pairs of accounts (nobody else moves
 * their money), so it knows each balance and sends all of one account to the other.
 * The twin that loses the race then finds the source empty, and only the journal can
 * tell it that its own id moved the money: every refusal is false, and the audit
 * counts it (failedButPresent). A round with an unknown outcome (AMBIGUOUS_COMMIT, or
 * a twin that never reached the database) may still commit later, so the worker
 * leaves that pair for the next one.
 */
async function runTwinWorker(
  bank: Bank,
  twin: TwinProcess,
  pairs: readonly (readonly [string, string])[],
  openingBalance: bigint,
  random: SeededRandom,
  deadline: Deadline,
  ledger: ClientLedger,
  faults: { twinSubmissions: number },
): Promise<void> {
  for (const [a, b] of pairs) {
    const balance = new Map([
      [a, openingBalance],
      [b, openingBalance],
    ]);
    let [from, to] = [a, b];
    while (!deadline()) {
      const request = { id: seededUuid(random), fromId: from, toId: to, amount: balance.get(from)! };
      ledger.submitted += 2;
      faults.twinSubmissions++;
      const answers = await Promise.all([
        bank.transfer(request).then(
          () => undefined,
          (error: unknown) => errorCode(error),
        ),
        twin.submit(request),
      ]);
      for (const code of answers) recordTwin(ledger, request, code);
      if (answers.some((code) => code === undefined)) {
        balance.set(to, balance.get(to)! + request.amount);
        balance.set(from, 0n);
        [from, to] = [to, from];
      } else if (answers.some((code) => unreached.has(code!))) {
        break; // the outcome is unknown: this pair's balances are no longer known
      }
    }
    if (deadline()) return;
  }
}

/**
 * Answers that speak of the attempt, not of the id: the other twin may have moved it
 * (or this one's earlier try may still commit). Resolved after the run, like AMBIGUOUS_COMMIT.
 */
const unreached = new Set(['AMBIGUOUS_COMMIT', 'RETRIES_EXHAUSTED', 'DATABASE_UNAVAILABLE', '57014']);
function recordTwin(ledger: ClientLedger, request: TransferRequest, code: string | undefined): void {
  if (code === undefined) ledger.acknowledge(request);
  else if (unreached.has(code)) ledger.unknown.set(request.id, request);
  else ledger.fail(request, `twin ${code}`);
}

/** The twin process: `submit` resolves with undefined (moved or replayed) or the failure's code. */
interface TwinProcess {
  submit(request: TransferRequest): Promise<string | undefined>;
  close(): Promise<void>;
}

function startTwinProcess(url: string): TwinProcess {
  const script = new URL('./chaos-twin.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = new Map<string, (code: string | undefined) => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const answer of waiting.values()) answer('TWIN_EXITED');
    waiting.clear();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const { id, ok, code } = JSON.parse(line) as { id: string; ok: boolean; code?: string };
    waiting.get(id)?.(ok ? undefined : code);
    waiting.delete(id);
  });
  return {
    submit(request) {
      return new Promise((resolve) => {
        waiting.set(request.id, resolve);
        child.stdin!.write(`${JSON.stringify({ ...request, amount: String(request.amount) })}\n`);
      });
    },
    async close() {
      child.stdin!.end();
      await exited;
    },
  };
}

/** transferMany of 1 to 6 transfers at a time, each item's answer recorded on its own. */
async function runManyWorker(
  bank: Bank,
  accounts: string[],
  random: SeededRandom,
  deadline: Deadline,
  ledger: ClientLedger,
): Promise<void> {
  while (!deadline()) {
    const requests = Array.from({ length: random.int(1, 6) }, () => randomTransfer(accounts, random));
    ledger.submitted += requests.length;
    try {
      const results = await bank.transferMany(requests);
      for (const [i, result] of results.entries()) record(ledger, requests[i]!, result.ok ? undefined : result.error);
    } catch (error) {
      for (const request of requests) record(ledger, request, error);
    }
  }
}

/** Answers that leave the outcome unknown to the client: resolved after the run. */
const unknownAnswer = (error: unknown) => error instanceof RoachbankError && error.code === 'AMBIGUOUS_COMMIT';

/**
 * A card flow per iteration: a hold of a random amount, then its post (with an id of
 * the worker's, so the journal row is the client's to find) or its void. What the
 * client was told decides which statuses the audit allows each hold to end in.
 */
async function runHoldWorker(bank: Bank, accounts: string[], random: SeededRandom, deadline: Deadline, ledger: ClientLedger) {
  while (!deadline()) {
    const { id, fromId, toId, amount } = randomTransfer(accounts, random);
    ledger.submitted++;
    try {
      await bank.hold({ id, fromId, toId, amount, expiresInMs: 3_600_000 });
    } catch (error) {
      // Not placed, or not known to be: either way it is left pending (or absent) for the audit.
      ledger.holds.push({ id, allowed: unknownAnswer(error) ? ['pending', 'absent'] : ['absent'] });
      continue;
    }
    if (random.int(0, 2) > 0) {
      const post: TransferRequest = {
        id: seededUuid(random),
        fromId,
        toId,
        amount: BigInt(random.int(1, Number(amount))),
        holdId: id,
      };
      ledger.submitted++;
      try {
        await bank.postHold(id, { id: post.id, amount: post.amount });
        record(ledger, post);
        ledger.holds.push({ id, allowed: ['posted'], transferId: post.id });
      } catch (error) {
        record(ledger, post, error);
        ledger.holds.push({ id, allowed: unknownAnswer(error) ? ['posted', 'pending'] : ['pending'], transferId: post.id });
      }
    } else {
      try {
        await bank.voidHold(id);
        ledger.holds.push({ id, allowed: ['voided'] });
      } catch (error) {
        ledger.holds.push({ id, allowed: ['voided', 'pending'] });
        if (!unknownAnswer(error)) ledger.failureCounts[errorCode(error)] = (ledger.failureCounts[errorCode(error)] ?? 0) + 1;
      }
    }
  }
}

/** Part of an acknowledged transfer moved back, under an id of the worker's. */
async function runReversalWorker(bank: Bank, accounts: string[], random: SeededRandom, deadline: Deadline, ledger: ClientLedger) {
  while (!deadline()) {
    const acknowledged = ledger.recentTransfers;
    if (acknowledged.length === 0) {
      const pause = performance.now() + 50;
      await runWorker(bank, accounts, random, () => deadline() || performance.now() >= pause, ledger);
      continue;
    }
    const original = acknowledged[random.int(0, acknowledged.length - 1)]!;
    const reversal: TransferRequest = {
      id: seededUuid(random),
      fromId: original.toId,
      toId: original.fromId,
      amount: BigInt(random.int(1, Number(original.amount))),
      reversalOf: original.id,
    };
    ledger.submitted++;
    try {
      await bank.reverse(original.id, { id: reversal.id, amount: reversal.amount });
      record(ledger, reversal);
    } catch (error) {
      record(ledger, reversal, error);
    }
  }
}

/** transferMany groups of 2 or 3 transfers with `atomic: true`: every item or none. */
async function runAtomicWorker(bank: Bank, accounts: string[], random: SeededRandom, deadline: Deadline, ledger: ClientLedger) {
  while (!deadline()) {
    const group = Array.from({ length: random.int(2, 3) }, () => randomTransfer(accounts, random));
    ledger.submitted += group.length;
    ledger.groups.push(group.map((request) => request.id));
    let results: Awaited<ReturnType<Bank['transferMany']>>;
    try {
      results = await bank.transferMany(group, { atomic: true });
    } catch (error) {
      results = group.map(() => ({ ok: false, error }));
    }
    if (results.some((r) => !r.ok && unknownAnswer(r.error))) ledger.unknownGroups.push(group);
    else for (const [i, r] of results.entries()) record(ledger, group[i]!, r.ok ? undefined : r.error);
  }
}

/** The code a failure is counted under: roachbank's, else the SQLSTATE or the socket error. */
function errorCode(error: unknown): string {
  if (error instanceof RoachbankError) return error.code;
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = sqlState(e) ?? (e as { code?: string }).code;
    if (code) return code;
    if (!(e.cause instanceof Error)) return e.message.split('\n')[0] as string;
  }
  return String(error);
}

interface Schedule {
  readonly options: ChaosOptions;
  readonly server: PrivateServer;
  readonly proxy: WireProxy;
  readonly admin: pg.Pool;
  readonly started: number;
  readonly heals: number[];
  readonly faults: { serverCrashes: number; backendsTerminated: number; lockHolds: number };
  readonly accounts: readonly string[];
}

/**
 * The timed faults, at fixed fractions of each cycle so they never overlap:
 * short timeouts (with a lock held long enough to trip them), refused
 * connections and crashes; across the run, a backend terminated every couple
 * of seconds. A run longer than one cycle repeats the cycle.
 */
async function runFaultSchedule(schedule: Schedule): Promise<void> {
  const { options, server, proxy, admin, started, heals, faults, accounts } = schedule;
  const end = started + options.durationMs;
  const cycles = Math.max(1, Math.floor(options.durationMs / options.cycleMs));
  const cycleMs = options.durationMs / cycles;
  const random = seededRandom(options.seed);
  const log = (message: string) => options.log(`${((performance.now() - started) / 1000).toFixed(1)}s ${message}`);

  const terminations = async () => {
    while (performance.now() < end - 1000) {
      await sleep(random.int(1500, 2500));
      const killed = await admin
        .query<{ killed: boolean }>(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend'
              AND pid <> pg_backend_pid() AND application_name <> 'chaos-admin'
            ORDER BY random() LIMIT 1`,
        )
        .catch(() => ({ rows: [] as Array<{ killed: boolean }> }));
      if (killed.rows[0]?.killed) faults.backendsTerminated++;
    }
  };

  const cycle = async (cycleStart: number) => {
    const at = (fraction: number) => sleep(Math.max(0, cycleStart + fraction * cycleMs - performance.now()));
    const timeouts = async (from: number, to: number) => {
      await at(from);
      log(`statement_timeout ${statementTimeout}, idle_in_transaction_session_timeout ${idleInTransactionTimeout}`);
      await whenUp(() => setTimeouts(admin, true));
      await whenUp(() => holdLock(admin, 600));
      await at(to);
      await whenUp(() => setTimeouts(admin, false));
      heals.push(performance.now());
    };
    const refusals = async (fraction: number) => {
      await at(fraction);
      log('refusing new connections');
      proxy.refuseConnections(true);
      await sleep(700);
      proxy.refuseConnections(false);
      heals.push(performance.now());
    };
    const crash = async (fraction: number, downMs: number) => {
      await at(fraction);
      log(`server: pg_ctl stop -m immediate, down for ${downMs} ms`);
      await server.crash();
      faults.serverCrashes++;
      await sleep(downMs);
      await server.start();
      log('server: started again');
      heals.push(performance.now());
    };
    // One after another, never overlapping, so each heal is a heal. The last outage
    // outlasts the retry core's patience (10 attempts, about 5 s), so some transfers
    // fail with RETRIES_EXHAUSTED: the audit then holds them to being absent.
    await Promise.all([
      timeouts(0.03, 0.11),
      refusals(0.14),
      crash(0.22, 500),
      refusals(0.32),
      crash(0.42, 500),
      timeouts(0.5, 0.57),
      refusals(0.62),
      crash(0.7, 6000),
      refusals(0.92),
    ]);
  };

  // Across the run, two accounts' rows held for longer than the client-side query_timeout,
  // so statements on them are given up by the client and then commit late on the server.
  const lockHolds = async () => {
    while (performance.now() < end - 1000) {
      await sleep(random.int(800, 2000));
      const first = random.int(0, accounts.length - 1);
      const pair = [accounts[first]!, accounts[(first + random.int(1, accounts.length - 1)) % accounts.length]!];
      const held = await holdLock(admin, random.int(300, 600), pair)
        .then(() => true)
        .catch(() => false);
      if (held) faults.lockHolds++;
    }
  };

  const cyclesDone = (async () => {
    for (let i = 0; i < cycles; i++) await cycle(started + i * cycleMs);
  })();
  await Promise.all([cyclesDone, terminations(), lockHolds()]);
}

/** Switches the short timeouts on or off for every session, running ones included (a reload applies them). */
async function setTimeouts(admin: pg.Pool, on: boolean): Promise<void> {
  const client = await admin.connect();
  try {
    await client.query(
      on ? `ALTER SYSTEM SET statement_timeout = '${statementTimeout}'` : 'ALTER SYSTEM RESET statement_timeout',
    );
    await client.query(
      on
        ? `ALTER SYSTEM SET idle_in_transaction_session_timeout = '${idleInTransactionTimeout}'`
        : 'ALTER SYSTEM RESET idle_in_transaction_session_timeout',
    );
    await client.query('SELECT pg_reload_conf()');
  } finally {
    client.release();
  }
}

/**
 * Holds the row locks of every account (or of `ids`) for `ms` in one statement batch, so the workers' statements wait past
 * statement_timeout or the client's query_timeout. READ COMMITTED: at SERIALIZABLE
 * the lock itself would keep failing with 40001 against the workers' updates.
 */
async function holdLock(admin: pg.Pool, ms: number, ids?: readonly string[]): Promise<void> {
  // The ids are the run's own UUIDs: safe as literals in a batch that takes no parameters.
  const which = ids ? `WHERE id IN (${ids.map((id) => `'${id}'::UUID`).join(', ')})` : '';
  await admin.query(
    `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = 0; SELECT 1 FROM roachbank.accounts ${which} ORDER BY id FOR UPDATE; SELECT pg_sleep(${ms / 1000}); COMMIT`,
  );
}

/** Runs a step of the schedule, waiting out a server that is down (bounded: 30 s). */
async function whenUp(step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= 300) throw error;
      await sleep(100);
    }
  }
}

/** Sessions left inside a transaction and connections never given back, once the workers are done. */
async function connectionLeaks(admin: pg.Pool, pools: pg.Pool[]): Promise<{ idleInTransaction: number; checkedOut: number }> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state LIKE 'idle in transaction%' AND application_name <> 'chaos-admin'`,
  );
  const checkedOut = pools.reduce((sum, pool) => sum + pool.totalCount - pool.idleCount + pool.waitingCount, 0);
  return { idleInTransaction: rows[0]?.n ?? 0, checkedOut };
}

/** Resubmits every transfer whose outcome the client never learnt: idempotency makes that the way to learn it. */
async function resolveUnknowns(bank: Bank, ledger: ClientLedger): Promise<ChaosReport['transfers']['ambiguousAfterRun']> {
  const result = { total: ledger.unknown.size + ledger.unknownGroups.length, committed: 0, appliedOnResubmit: 0, failed: 0 };
  for (const group of ledger.unknownGroups) {
    try {
      const results = await bank.transferMany(group, { atomic: true });
      // Every item replayed: the group committed before; none: it is applied now; or none happened at all.
      if (results.every((r) => r.ok)) {
        result[results.every((r) => r.ok && r.outcome.replayed) ? 'committed' : 'appliedOnResubmit']++;
        for (const request of group) ledger.resolve(request);
      } else {
        result.failed++;
        for (const [i, r] of results.entries()) if (!r.ok) ledger.fail(group[i]!, errorCode(r.error));
      }
    } catch {}
  }
  ledger.unknownGroups = ledger.unknownGroups.filter((group) =>
    group.some((request) => !ledger.acknowledged.has(request.id) && !ledger.failed.has(request.id)),
  );
  for (const request of [...ledger.unknown.values()]) {
    try {
      // The same call again, with the same ids: a post, a reversal or a transfer.
      const outcome = request.holdId
        ? await bank.postHold(request.holdId, { id: request.id, amount: request.amount })
        : request.reversalOf
          ? await bank.reverse(request.reversalOf, { id: request.id, amount: request.amount })
          : await bank.transfer(request);
      if (outcome.replayed) result.committed++;
      else result.appliedOnResubmit++;
      ledger.resolve(request);
    } catch (error) {
      if (!(error instanceof RoachbankError) || error.code === 'AMBIGUOUS_COMMIT') continue; // still unknown: the audit says so
      result.failed++;
      ledger.unknown.delete(request.id);
      ledger.fail(request, error.code);
    }
  }
  return result;
}

/** A pool that bypasses the proxy (the network has healed), closed with the others. */
function directPool(url: string, pools: pg.Pool[]): pg.Pool {
  const pool = createPool(url, { max: 2, statementIsolation: 'read committed' });
  pools.push(pool);
  return pool;
}

function seededUuid(random: SeededRandom): string {
  const bytes = Array.from({ length: 16 }, () => random.int(0, 255));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
