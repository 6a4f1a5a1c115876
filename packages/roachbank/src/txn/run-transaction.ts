import type pg from 'pg';
import type { SessionSource } from './attempt-session.js';
import { pgSessionSource } from './pg-session.js';
import { type LoopSettings, runExplicitAttempts, runImplicitAttempts } from './retry-loop.js';

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

const defaults = { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 1000 };
const isolationLevels: readonly IsolationLevel[] = ['serializable', 'repeatable read', 'read committed'];

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
  return runExplicitAttempts(pgSessionSource(pool), fn, resolveOptions(options));
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
  return runExplicitAttempts(source, fn, resolveOptions(options));
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
  return runImplicitAttempts(pgSessionSource(pool), fn, resolveOptions(options));
}

function resolveOptions(options: RunTransactionOptions): LoopSettings {
  const settings: LoopSettings = {
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
