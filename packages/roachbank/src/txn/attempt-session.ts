import { serverVersionSql } from './detect-server.js';

/** What the server last said about a session's transaction. */
export type TransactionState = 'idle' | 'open' | 'failed';

/** How the retry core opens each transaction. */
export interface BeginMode {
  readonly isolation: 'serializable' | 'repeatable read' | 'read committed';
  readonly readOnly: boolean;
}

/**
 * One connection of a data layer, as the retry core drives it through one or
 * more attempts. The core decides (classification, backoff, protocol,
 * ambiguity); the session only speaks its layer's language. A session for
 * node-postgres, and one per adapter (Kysely, Knex, TypeORM, Sequelize,
 * Prisma), so every layer gets the same contract from one loop.
 */
export interface AttemptSession<Tx> extends CoreSteps {
  /** What the transaction callback receives: the layer's own transaction object. */
  readonly handle: Tx;
  /**
   * Opens the transaction unless the layer already did on `open`, then sets the
   * retry savepoint when one is named (CockroachDB's protocol).
   */
  begin(mode: BeginMode, savepoint: string | undefined): Promise<void>;
  /** COMMIT. `rolled back` when the server answered COMMIT with ROLLBACK (a failed transaction). */
  commit(): Promise<'committed' | 'rolled back'>;
  rollback(): Promise<void>;
  /** The transaction's state as the connection reports it; undefined when the layer hides it. */
  state(): TransactionState | undefined;
  /** Set once the connection itself failed (a socket error between statements); then only `discard`. */
  readonly brokenBy: unknown;
  /** The last statement error of this attempt, swallowed by the callback or not, when the layer shows it. */
  readonly lastQueryError: unknown;
  /** Forgets the previous attempt's statement error (the savepoint protocol keeps the session). */
  startAttempt(): void;
  /** Gives a healthy connection back to the layer's pool. */
  release(): Promise<void>;
  /** Destroys the connection: it never goes back to a pool. Never throws. */
  discard(reason: unknown): void;
}

/**
 * The retry core's own statements, as steps that say what they are: a layer runs
 * each as it runs any statement, and knows from the step whether rows come back.
 * `coreSteps` writes their SQL, once, for every layer.
 */
export interface CoreSteps {
  /** RELEASE SAVEPOINT: CockroachDB's commit under the savepoint protocol. */
  releaseSavepoint(name: string): Promise<void>;
  /** ROLLBACK TO SAVEPOINT: undoes an attempt and keeps the transaction (and its priority). */
  rollbackToSavepoint(name: string): Promise<void>;
  /** A statement that does nothing, to ask the server whether the transaction still runs (25P02 if not). */
  probe(): Promise<void>;
  /** `SELECT version()`: which server this is, and so which protocol it gets. */
  serverVersion(): Promise<string>;
}

/** How a layer runs a statement of the core's: `query` answers rows, `execute` answers none. */
export interface StatementRunner {
  query(sql: string): Promise<readonly Record<string, unknown>[]>;
  execute(sql: string): Promise<void>;
}

/**
 * The core's steps on a layer's statement runner.
 *
 * @example
 * const steps = coreSteps({ query: async (sql) => (await client.query(sql)).rows, execute: async (sql) => void (await client.query(sql)) });
 */
export function coreSteps(runner: StatementRunner): CoreSteps {
  return {
    releaseSavepoint: (name) => runner.execute(`RELEASE SAVEPOINT ${name}`),
    rollbackToSavepoint: (name) => runner.execute(`ROLLBACK TO SAVEPOINT ${name}`),
    probe: () => runner.execute('SELECT 1'),
    serverVersion: async () => String((await runner.query(serverVersionSql))[0]?.version ?? ''),
  };
}

/** Where sessions come from: one data layer's handle (a pool, a Kysely, a DataSource, ...). */
export interface SessionSource<Tx> {
  /** What the server kind (and so the protocol) is remembered by: the user's handle. */
  readonly identity: object;
  /**
   * A new session. Layers whose API opens a connection and its transaction in
   * one call (Kysely, Sequelize, Prisma) begin here, with `mode`; the others
   * only connect, and `begin` opens the transaction.
   */
  open(mode: BeginMode): Promise<AttemptSession<Tx>>;
}
