import { AmbiguousCommitError } from './ambiguous-commit-error.js';
import type { AttemptSession, BeginMode, SessionSource } from './attempt-session.js';
import { backoffDelay, sleep } from './backoff.js';
import { classifyError, sqlState } from './classify-error.js';
import { ConnectionLostError } from './connection-lost-error.js';
import { serverInfoOf } from './detect-server.js';
import { RetriesExhaustedError } from './retries-exhausted-error.js';
import type { RetryEvent, SessionCallback, TransactionProtocol } from './run-transaction.js';
import { TransactionAbortedError } from './transaction-aborted-error.js';

/** The checked options of one call of the retry core. */
export interface LoopSettings {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly isolation: BeginMode['isolation'];
  readonly protocol: TransactionProtocol;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly readOnly: boolean;
  readonly retryBudgetMs: number | undefined;
}

type Protocol = 'plain' | 'savepoint';
/** Where an attempt failed; `release` is CockroachDB's RELEASE SAVEPOINT, which is its commit. */
type Phase = 'connect' | 'begin' | 'body' | 'release' | 'commit';
/** A session as the loop holds it: what protocol it speaks and whether its transaction is open. */
interface Held<Tx> {
  readonly layer: AttemptSession<Tx>;
  readonly protocol: Protocol;
  begun: boolean;
}
/** The session an attempt leaves for the next one (the savepoint protocol keeps it), how it begins, and the time left. */
interface Attempts<Tx> {
  held: Held<Tx> | undefined;
  readonly mode: BeginMode;
  readonly remainingMs: () => number;
}

const savepointName = 'cockroach_restart';
const protocolBySource = new WeakMap<object, Promise<Protocol>>();

/** An attempt's failure, with the phase it failed in: what it means depends on it (`settle`). */
class StepFailure {
  readonly phase: Phase;
  readonly error: unknown;
  constructor(phase: Phase, error: unknown) {
    this.phase = phase;
    this.error = error;
  }
}

/**
 * Runs one step of an attempt; its failure is tagged with the step's phase. (One
 * `then`, not an async function: it runs a few times for every statement.)
 */
function step<R>(phase: Phase, run: () => Promise<R>): Promise<R> {
  try {
    return run().then(undefined, taggers[phase]);
  } catch (error) {
    return taggers[phase](error);
  }
}

/** One tagging function per phase, made once. */
const taggers = Object.fromEntries(
  (['connect', 'begin', 'body', 'release', 'commit'] as const).map((phase) => [
    phase,
    (error: unknown): never => {
      throw error instanceof StepFailure ? error : new StepFailure(phase, error);
    },
  ]),
) as Record<Phase, (error: unknown) => never>;

/**
 * `fn` inside `BEGIN … COMMIT` (the savepoint protocol on CockroachDB), retried
 * as `runTransaction` documents.
 */
export function runExplicitAttempts<Tx, T>(
  source: SessionSource<Tx>,
  fn: SessionCallback<Tx, T>,
  settings: LoopSettings,
): Promise<T> {
  return retrying<Tx, T>(source, settings, settings.protocol, async (attempt, held, state) => {
    const { layer } = held;
    if (!held.begun) {
      await step('begin', () => layer.begin(state.mode, held.protocol === 'savepoint' ? savepointName : undefined));
      held.begun = true;
    }
    layer.startAttempt();
    const value = await step('body', async () => {
      const value = await fn(layer.handle, attempt);
      await assertTransactionIntact(held);
      return value;
    });
    if (held.protocol === 'savepoint') {
      await step('release', () => layer.releaseSavepoint(savepointName));
      state.held = undefined;
      await closeAfterRelease(layer);
      return value;
    }
    const answer = await step('commit', () => layer.commit());
    if (answer === 'rolled back') throw new StepFailure('commit', new TransactionAbortedError(layer.lastQueryError));
    state.held = undefined;
    await step('commit', () => giveBack(layer));
    return value;
  });
}

/**
 * The one statement `fn` sends, as its own implicit transaction, retried as
 * `runSingleStatement` documents: once it may have been sent, it may have committed.
 */
export function runImplicitAttempts<Tx, T>(
  source: SessionSource<Tx>,
  fn: SessionCallback<Tx, T>,
  settings: LoopSettings,
): Promise<T> {
  return retrying<Tx, T>(source, settings, 'plain', async (attempt, { layer }, state) => {
    layer.startAttempt();
    const value = await step('commit', async () => {
      const value = await fn(layer.handle, attempt);
      if (layer.brokenBy !== undefined) throw layer.brokenBy;
      return value;
    });
    state.held = undefined;
    await step('commit', () => giveBack(layer));
    return value;
  });
}

/**
 * The loop around attempts, each on the session the last one kept or a new one
 * (its connection opened and its protocol known): settles each failure (`settle`), sleeps a full-jitter
 * backoff between attempts, and stops at `maxAttempts`, the budget or the signal
 * with `RetriesExhaustedError` carrying the last failure. A session still held at
 * the end is rolled back.
 */
async function retrying<Tx, T>(
  source: SessionSource<Tx>,
  settings: LoopSettings,
  protocol: TransactionProtocol,
  attemptOnce: (attempt: number, held: Held<Tx>, state: Attempts<Tx>) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const state: Attempts<Tx> = {
    held: undefined,
    mode: { isolation: settings.isolation, readOnly: settings.readOnly },
    remainingMs: () =>
      settings.retryBudgetMs === undefined ? Number.POSITIVE_INFINITY : settings.retryBudgetMs - (performance.now() - started),
  };
  let lastFailure: unknown;
  try {
    for (let attempt = 1; ; attempt++) {
      settings.signal?.throwIfAborted();
      try {
        state.held ??= await connect(source, state.mode, protocol, state.remainingMs());
        return await attemptOnce(attempt, state.held, state);
      } catch (thrown) {
        const { phase, error } = thrown instanceof StepFailure ? thrown : new StepFailure('body', thrown);
        const failed = state.held;
        state.held = undefined; // settle() owns it now: it hands back only a session to keep
        state.held = await settle(error, phase, failed, settings.readOnly);
        // A wait for a connection that the budget cut short says less than the failure before it.
        const failure =
          error instanceof BudgetSpentError && lastFailure !== undefined
            ? lastFailure
            : phase !== 'connect' && classifyError(error) === 'connection'
              ? new ConnectionLostError(error)
              : error;
        lastFailure = failure;
        const left = state.remainingMs();
        if (attempt >= settings.maxAttempts || left <= 0) {
          throw new RetriesExhaustedError(attempt, failure, left <= 0 ? performance.now() - started : undefined);
        }
        const delayMs = Math.min(backoffDelay(attempt, settings.baseDelayMs, settings.maxDelayMs), left);
        settings.onRetry?.({ attempt, delayMs, error });
        await sleep(delayMs, settings.signal);
        // A sleep that used up the budget leaves no time for another attempt.
        if (state.remainingMs() <= 0) throw new RetriesExhaustedError(attempt, failure, performance.now() - started);
      }
    }
  } finally {
    if (state.held) await rollbackAndClose(state.held.layer);
  }
}

/** A new session and its protocol: a failure to connect is `connect`, one after it (asking the server) is `begin`. */
async function connect<Tx>(
  source: SessionSource<Tx>,
  mode: BeginMode,
  protocol: TransactionProtocol,
  waitMs: number,
): Promise<Held<Tx>> {
  const layer = await step('connect', () => openWithin(source, mode, waitMs));
  if (protocol !== 'auto') return { layer, protocol, begun: false };
  return step('begin', () => hold(source, layer, protocol));
}

/**
 * Decides what a failed attempt means. Returns the session to keep for the next
 * attempt (savepoint protocol) or undefined; throws when the error must not be retried.
 */
async function settle<Tx>(
  error: unknown,
  phase: Phase,
  held: Held<Tx> | undefined,
  readOnly: boolean,
): Promise<Held<Tx> | undefined> {
  const classified = classifyError(error);
  const kind = readOnly && classified === 'ambiguous' ? 'retryable' : classified;
  const layer = held?.layer;
  const broken = kind === 'connection' || layer?.brokenBy !== undefined;
  if (phase === 'release' && !readOnly && kind !== 'retryable' && sqlState(error) !== '25P02') {
    // RELEASE SAVEPOINT cockroach_restart is CockroachDB's commit: 40001 there restarts
    // at the savepoint (below); any other error there leaves the outcome unknown
    // (cockroach-go, crdb/common.go, ExecuteInTx: `if released { err =
    // newAmbiguousCommitError(err) }`). 25P02 is the exception that proves the rule: the
    // transaction had already failed, so RELEASE was not run and nothing committed.
    layer?.discard(error);
    throw new AmbiguousCommitError(error);
  }
  if (kind === 'ambiguous' || ((phase === 'commit' || phase === 'release') && broken && !readOnly)) {
    layer?.discard(error);
    throw new AmbiguousCommitError(error);
  }
  if (broken) {
    layer?.discard(error);
    if (kind === 'connection') return undefined;
    throw error;
  }
  if (kind === 'retryable' && held && layer) {
    if (held.protocol === 'savepoint' && held.begun && layer.state() !== 'idle') {
      try {
        await layer.rollbackToSavepoint(savepointName);
        return held;
      } catch (rollbackError) {
        layer.discard(rollbackError);
        return undefined;
      }
    }
    await rollbackAndClose(layer);
    return undefined;
  }
  if (layer) await rollbackAndClose(layer);
  if (kind === 'retryable') return undefined;
  throw error;
}

/**
 * Refuses to COMMIT a transaction the callback spoiled: PostgreSQL would answer
 * COMMIT with ROLLBACK, and a layer that does not read COMMIT's answer would
 * report success. Where the layer hides the connection's state, one probe asks
 * the server (a failed transaction refuses it with 25P02); under the savepoint
 * protocol RELEASE SAVEPOINT asks instead, at no extra cost.
 */
async function assertTransactionIntact<Tx>({ layer, protocol }: Held<Tx>): Promise<void> {
  if (layer.brokenBy !== undefined) throw layer.brokenBy;
  const state = layer.state();
  if (state === 'failed') throw new TransactionAbortedError(layer.lastQueryError);
  if (state === 'idle') {
    throw new Error('the transaction callback ended the transaction itself (COMMIT or ROLLBACK inside runTransaction)');
  }
  if (state === undefined && protocol === 'plain') {
    try {
      await layer.probe();
    } catch (probeError) {
      if (classifyError(probeError) === 'connection') throw probeError;
      throw new TransactionAbortedError(layer.lastQueryError ?? probeError);
    }
  }
}

/**
 * The COMMIT that follows a successful RELEASE SAVEPOINT cockroach_restart: the
 * transaction is committed already, COMMIT only readies the connection for the next
 * one (cockroach-go, crdb/common.go: "Ignore commit errors. The tx has already been
 * committed by RELEASE."). Whatever COMMIT says, the attempt succeeded; a connection
 * that did not answer COMMIT cleanly is destroyed instead of pooled.
 */
async function closeAfterRelease<Tx>(layer: AttemptSession<Tx>): Promise<void> {
  let answer: Awaited<ReturnType<AttemptSession<Tx>['commit']>>;
  try {
    answer = await layer.commit();
  } catch (error) {
    await giveBack(layer, error);
    return;
  }
  await giveBack(layer, answer === 'committed' ? undefined : new Error('COMMIT after RELEASE SAVEPOINT did not answer COMMIT'));
}

/**
 * Ends whatever a failed attempt left open. ROLLBACK is sent whatever the state
 * says: node-postgres rejects a failed query on the server's ErrorResponse, before
 * the ReadyForQuery that updates the state, so right after an error the state
 * can still read idle while a batch's BEGIN left the session in an aborted
 * transaction. The client queues the ROLLBACK behind that ReadyForQuery; with no
 * transaction open it is only a warning.
 */
async function rollbackAndClose<Tx>(layer: AttemptSession<Tx>): Promise<void> {
  if (layer.brokenBy !== undefined) return giveBack(layer);
  try {
    await layer.rollback();
  } catch (error) {
    return giveBack(layer, error);
  }
  await giveBack(layer);
}

/**
 * Where a session goes when the loop is done with it, decided in one place (as
 * pg-pool's `release(err)` does): destroyed when there is a reason (a failure of
 * its own, or a broken connection), back to its pool otherwise.
 */
async function giveBack<Tx>(layer: AttemptSession<Tx>, reason?: unknown): Promise<void> {
  const why = reason ?? layer.brokenBy;
  if (why !== undefined) layer.discard(why);
  else await layer.release();
}

/** The retry budget ran out while waiting for a connection (classified like a connect timeout). */
class BudgetSpentError extends Error {
  constructor() {
    super('timeout exceeded when trying to connect (the retry budget is spent)');
  }
}

/**
 * A new session, waiting at most `ms` (the pool's own connect timeout may end
 * the wait sooner). A session that arrives after the wait was given up is
 * rolled back and goes back to its pool unused.
 */
async function openWithin<Tx>(source: SessionSource<Tx>, mode: BeginMode, ms: number): Promise<AttemptSession<Tx>> {
  const pending = source.open(mode);
  if (!Number.isFinite(ms)) return pending;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetSpentError()), Math.max(0, ms));
  });
  try {
    return await Promise.race([pending, expired]);
  } catch (error) {
    pending.then(
      (late) => rollbackAndClose(late),
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Pairs a new session with its protocol; a session whose server could not be asked is destroyed. */
async function hold<Tx>(source: SessionSource<Tx>, layer: AttemptSession<Tx>, protocol: TransactionProtocol): Promise<Held<Tx>> {
  try {
    return { layer, protocol: protocol === 'auto' ? await protocolFor(source, layer) : protocol, begun: false };
  } catch (error) {
    layer.discard(error);
    throw error;
  }
}

/** CockroachDB gets the savepoint protocol; the answer is asked once per source (the user's handle). */
function protocolFor<Tx>(source: SessionSource<Tx>, layer: AttemptSession<Tx>): Promise<Protocol> {
  let known = protocolBySource.get(source.identity);
  if (!known) {
    known = layer.serverVersion().then((version) => (serverInfoOf(version).kind === 'cockroachdb' ? 'savepoint' : 'plain'));
    protocolBySource.set(source.identity, known);
    known.catch(() => protocolBySource.delete(source.identity));
  }
  return known;
}
