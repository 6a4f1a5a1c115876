import type pg from 'pg';
import { AmbiguousCommitError } from './ambiguous-commit-error.js';
import type { AttemptSession, BeginMode, SessionSource } from './attempt-session.js';
import { backoffDelay, sleep } from './backoff.js';
import { classifyError, sqlState } from './classify-error.js';
import { ConnectionLostError } from './connection-lost-error.js';
import { serverInfoOf, serverVersionSql } from './detect-server.js';
import { pgSessionSource } from './pg-session.js';
import { RetriesExhaustedError } from './retries-exhausted-error.js';
import { TransactionAbortedError } from './transaction-aborted-error.js';

export type IsolationLevel = 'serializable' | 'repeatable read' | 'read committed';

/**
 * - `plain`: `BEGIN … COMMIT`; a retry runs on a fresh connection from the pool.
 * - `savepoint`: CockroachDB's client-side protocol, `BEGIN; SAVEPOINT cockroach_restart; …
 *   RELEASE SAVEPOINT cockroach_restart; COMMIT`; a retry rolls back to the savepoint and
 *   re-runs on the same connection, keeping the transaction's priority.
 * - `auto` (default): `savepoint` on CockroachDB, `plain` elsewhere (asked once per pool).
 */
export type TransactionProtocol = 'auto' | 'plain' | 'savepoint';

/** What `onRetry` hears before each backoff sleep. */
export interface RetryEvent {
  /** The attempt that just failed, from 1. */
  readonly attempt: number;
  /** How long the core sleeps before the next attempt. */
  readonly delayMs: number;
  /** Why the attempt failed (40001, 40P01 or a connection error). */
  readonly error: unknown;
}

export interface RunTransactionOptions {
  /** Attempts in all, the first included. Default 10. */
  readonly maxAttempts?: number;
  /** Backoff base: the delay cap doubles from `baseDelayMs · 2` on. Default 10 ms. */
  readonly baseDelayMs?: number;
  /** The largest backoff delay. Default 1000 ms. */
  readonly maxDelayMs?: number;
  /** Called before every backoff sleep; for metrics and logs. */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Stops retrying (and sleeping) once aborted; rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Default `serializable`, explicit in BEGIN whatever the server's default is. */
  readonly isolation?: IsolationLevel;
  /** Default `auto`. */
  readonly protocol?: TransactionProtocol;
  /**
   * The work only reads. A read has no outcome to lose, so a connection lost at
   * any point (after COMMIT was sent included) is retried on a new connection
   * instead of ending in `AmbiguousCommitError`, and so is 40003. `runTransaction`
   * opens the transaction `READ ONLY`, so the server refuses a write in it;
   * `runSingleStatement` has no BEGIN to carry the mode and takes the caller's word.
   * Default false.
   */
  readonly readOnly?: boolean;
  /**
   * How long the core keeps trying, in ms from the start of the first attempt:
   * no attempt starts, no backoff sleep lasts and no wait for a connection lasts
   * past it; then `RetriesExhaustedError`. A statement already running is not cut
   * (the pool's `query_timeout` or the server's `statement_timeout` bound that).
   * Default: none, `maxAttempts` alone bounds the retries.
   */
  readonly retryBudgetMs?: number;
}

/** The work of one transaction; called once per attempt, from 1, with the attempt's connection. */
export type TransactionCallback<T> = (client: pg.PoolClient, attempt: number) => Promise<T>;

/** The same, for any data layer: `tx` is that layer's own transaction object. */
export type SessionCallback<Tx, T> = (tx: Tx, attempt: number) => Promise<T>;

type Protocol = 'plain' | 'savepoint';
/** Where an attempt failed; `release` is CockroachDB's RELEASE SAVEPOINT, which is its commit. */
type Phase = 'connect' | 'begin' | 'body' | 'release' | 'commit';
/** A session as the loop holds it: what protocol it speaks and whether its transaction is open. */
interface Held<Tx> {
  readonly layer: AttemptSession<Tx>;
  readonly protocol: Protocol;
  begun: boolean;
}

const defaults = { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 1000 };
const isolationLevels: readonly IsolationLevel[] = ['serializable', 'repeatable read', 'read committed'];
const savepointName = 'cockroach_restart';
const protocolBySource = new WeakMap<object, Promise<Protocol>>();

/**
 * Runs `fn` inside a transaction and, when the database says the transaction
 * may simply be tried again, re-runs the whole callback (never replays SQL).
 *
 * 1. Takes a connection, `BEGIN ISOLATION LEVEL …` (plus the savepoint on CockroachDB).
 * 2. Calls `fn(client, attempt)`; then COMMIT (RELEASE SAVEPOINT + COMMIT on CockroachDB).
 * 3. On 40001 or 40P01, or a lost connection before COMMIT was sent: rolls back,
 *    sleeps a full-jitter backoff and goes to 1 (the savepoint protocol keeps its connection).
 * 4. On a lost connection after COMMIT was sent, or 40003: `AmbiguousCommitError`
 *    (with `readOnly`, these are retried too: a read has no outcome to lose).
 *    On CockroachDB RELEASE SAVEPOINT is the commit: any error there but 40001 is
 *    `AmbiguousCommitError`, and once it succeeded the call succeeds, whatever the
 *    COMMIT after it says (cockroach-go's `crdb.ExecuteInTx`).
 * 5. Any other error, the callback's own included, rolls back and is rethrown as it is.
 * 6. After `maxAttempts` failed attempts, or once `retryBudgetMs` is spent:
 *    `RetriesExhaustedError` carrying the last error (a connection that broke after
 *    it was made is named as such: `ConnectionLostError`).
 *
 * A connection that failed is destroyed, never returned to the pool, and no
 * connection goes back to the pool inside a transaction.
 *
 * @example
 * const balance = await runTransaction(pool, async (client) => {
 *   const { rows } = await client.query('SELECT balance FROM accounts WHERE id = $1', [1]);
 *   await client.query('UPDATE accounts SET balance = balance - 100 WHERE id = $1', [1]);
 *   return rows[0].balance;
 * }, { maxAttempts: 5, onRetry: ({ attempt, error }) => console.warn(attempt, error) });
 */
export async function runTransaction<T>(
  pool: pg.Pool,
  fn: TransactionCallback<T>,
  options: RunTransactionOptions = {},
): Promise<T> {
  return runAttempts(pgSessionSource(pool), fn, resolveOptions(options), 'explicit');
}

/**
 * `runTransaction` on any data layer's sessions: the one retry loop behind
 * every adapter (Drizzle, Kysely, Knex, TypeORM, Sequelize, Prisma). An adapter
 * supplies a `SessionSource` that speaks its layer; classification, backoff,
 * the savepoint protocol, ambiguity, budgets and cancellation stay here.
 *
 * @example
 * await runTransactionOn(pgSessionSource(pool), (client) => client.query('SELECT 1'));
 */
export function runTransactionOn<Tx, T>(
  source: SessionSource<Tx>,
  fn: SessionCallback<Tx, T>,
  options: RunTransactionOptions = {},
): Promise<T> {
  return runAttempts(source, fn, resolveOptions(options), 'explicit');
}

/**
 * Runs the one statement that `fn` sends as its own implicit transaction: one
 * round trip, no BEGIN or COMMIT, with the retry rules of `runTransaction`.
 * A statement that failed with 40001 or 40P01, or a connection that could not
 * be made, is tried again; a connection lost once the statement may have been
 * sent is `AmbiguousCommitError`, because the statement commits by itself,
 * unless `readOnly` says the statement only reads: then it is simply sent again.
 * The isolation is the session's default (`isolation` and `protocol` do not apply).
 *
 * @example
 * const { rows } = await runSingleStatement(pool, (client) =>
 *   client.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2 RETURNING balance', [100, id]));
 * const balance = await runSingleStatement(pool, (client) =>
 *   client.query('SELECT balance FROM accounts WHERE id = $1', [id]), { readOnly: true });
 */
export async function runSingleStatement<T>(
  pool: pg.Pool,
  fn: TransactionCallback<T>,
  options: Omit<RunTransactionOptions, 'isolation' | 'protocol'> = {},
): Promise<T> {
  return runAttempts(pgSessionSource(pool), fn, { ...resolveOptions(options), protocol: 'plain' }, 'implicit');
}

async function runAttempts<Tx, T>(
  source: SessionSource<Tx>,
  fn: SessionCallback<Tx, T>,
  settings: Settings,
  mode: 'explicit' | 'implicit',
): Promise<T> {
  const beginMode: BeginMode = { isolation: settings.isolation, readOnly: settings.readOnly };
  const started = performance.now();
  const remainingMs = () =>
    settings.retryBudgetMs === undefined ? Number.POSITIVE_INFINITY : settings.retryBudgetMs - (performance.now() - started);
  let held: Held<Tx> | undefined;
  let lastFailure: unknown;
  try {
    for (let attempt = 1; ; attempt++) {
      settings.signal?.throwIfAborted();
      let phase: Phase = 'connect';
      try {
        if (!held) {
          const layer = await openWithin(source, beginMode, remainingMs());
          phase = 'begin'; // connected: from here a broken connection was lost, not refused
          held = await hold(source, layer, mode === 'implicit' ? 'plain' : settings.protocol);
        }
        phase = 'begin';
        const { layer } = held;
        if (mode === 'implicit') {
          layer.startAttempt();
          phase = 'commit'; // from here on the statement may commit by itself
          const value = await fn(layer.handle, attempt);
          if (layer.brokenBy !== undefined) throw layer.brokenBy;
          held = undefined;
          await layer.release();
          return value;
        }
        if (!held.begun) {
          await layer.begin(beginMode, held.protocol === 'savepoint' ? savepointName : undefined);
          held.begun = true;
        }
        layer.startAttempt();
        phase = 'body';
        const value = await fn(layer.handle, attempt);
        await assertTransactionIntact(held);
        if (held.protocol === 'savepoint') {
          phase = 'release';
          await layer.run(`RELEASE SAVEPOINT ${savepointName}`);
          held = undefined;
          await closeAfterRelease(layer);
          return value;
        }
        phase = 'commit';
        if ((await layer.commit()) === 'rolled back') throw new TransactionAbortedError(layer.lastQueryError);
        held = undefined;
        await layer.release();
        return value;
      } catch (error) {
        const failed = held;
        held = undefined; // settle() owns it now: it hands back only a session to keep
        held = await settle(error, phase, failed, settings.readOnly);
        // A wait for a connection that the budget cut short says less than the failure before it.
        const failure =
          error instanceof BudgetSpentError && lastFailure !== undefined
            ? lastFailure
            : phase !== 'connect' && classifyError(error) === 'connection'
              ? new ConnectionLostError(error)
              : error;
        lastFailure = failure;
        const left = remainingMs();
        if (attempt >= settings.maxAttempts || left <= 0) {
          throw new RetriesExhaustedError(attempt, failure, left <= 0 ? performance.now() - started : undefined);
        }
        const delayMs = Math.min(backoffDelay(attempt, settings.baseDelayMs, settings.maxDelayMs), left);
        settings.onRetry?.({ attempt, delayMs, error });
        await sleep(delayMs, settings.signal);
        // A sleep that used up the budget leaves no time for another attempt.
        if (remainingMs() <= 0) throw new RetriesExhaustedError(attempt, failure, performance.now() - started);
      }
    }
  } finally {
    if (held) await rollbackAndClose(held.layer);
  }
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
        await layer.run(`ROLLBACK TO SAVEPOINT ${savepointName}`);
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
 * report success. Where the layer hides the connection's state, one `SELECT 1`
 * asks the server (a failed transaction refuses it with 25P02); under the
 * savepoint protocol RELEASE SAVEPOINT asks instead, at no extra cost.
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
      await layer.run('SELECT 1');
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
  try {
    if ((await layer.commit()) === 'committed' && layer.brokenBy === undefined) {
      await layer.release();
      return;
    }
    layer.discard(layer.brokenBy ?? new Error('COMMIT after RELEASE SAVEPOINT did not answer COMMIT'));
  } catch (error) {
    layer.discard(error);
  }
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
    known = layer
      .run(serverVersionSql)
      .then((rows) => (serverInfoOf(String(rows[0]?.version ?? '')).kind === 'cockroachdb' ? 'savepoint' : 'plain'));
    protocolBySource.set(source.identity, known);
    known.catch(() => protocolBySource.delete(source.identity));
  }
  return known;
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
  if (layer.brokenBy !== undefined) {
    layer.discard(layer.brokenBy);
    return;
  }
  try {
    await layer.rollback();
  } catch (error) {
    layer.discard(error);
    return;
  }
  await layer.release();
}

type Settings = ReturnType<typeof resolveOptions>;

function resolveOptions(options: RunTransactionOptions) {
  const settings = {
    maxAttempts: options.maxAttempts ?? defaults.maxAttempts,
    baseDelayMs: options.baseDelayMs ?? defaults.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? defaults.maxDelayMs,
    isolation: options.isolation ?? 'serializable',
    protocol: options.protocol ?? 'auto',
    onRetry: options.onRetry,
    signal: options.signal,
    readOnly: options.readOnly ?? false,
    retryBudgetMs: options.retryBudgetMs,
  };
  if (settings.retryBudgetMs !== undefined && !(Number.isFinite(settings.retryBudgetMs) && settings.retryBudgetMs > 0)) {
    throw new RangeError(`retryBudgetMs must be a number > 0, got ${settings.retryBudgetMs}`);
  }
  if (!Number.isInteger(settings.maxAttempts) || settings.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer ≥ 1, got ${settings.maxAttempts}`);
  }
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    if (!Number.isFinite(settings[name]) || settings[name] < 0) {
      throw new RangeError(`${name} must be a number ≥ 0, got ${settings[name]}`);
    }
  }
  if (!isolationLevels.includes(settings.isolation)) {
    throw new RangeError(`isolation must be one of ${isolationLevels.join(', ')}, got ${settings.isolation}`);
  }
  if (!['auto', 'plain', 'savepoint'].includes(settings.protocol)) {
    throw new RangeError(`protocol must be auto, plain or savepoint, got ${settings.protocol}`);
  }
  return settings;
}
