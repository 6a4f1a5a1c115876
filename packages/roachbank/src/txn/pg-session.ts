import type pg from 'pg';
import {
  type AttemptSession,
  type BeginMode,
  type CoreSteps,
  coreSteps,
  type SessionSource,
  type TransactionState,
} from './attempt-session.js';
import { watchClient } from './watched-client.js';

/**
 * Sessions on a node-postgres pool: the core's statements go straight to the
 * client, the transaction state comes from the protocol's ReadyForQuery, and a
 * failed connection is released with its error, which pg-pool takes as "destroy".
 * The layer under Drizzle, and under every adapter whose raw client is reachable.
 *
 * @example
 * await runTransactionOn(pgSessionSource(pool), (client) => client.query('SELECT 1'));
 */
export function pgSessionSource(pool: pg.Pool): SessionSource<pg.PoolClient> {
  return {
    identity: pool,
    open: async () => pgSession(await pool.connect(), (raw, reason) => raw.release(reason)),
  };
}

/**
 * A session on one checked-out client. `giveBack(raw, reason)` returns it to
 * its pool: without a reason to reuse it, with one to destroy it.
 */
export function pgSession(
  raw: pg.PoolClient,
  giveBack: (raw: pg.PoolClient, reason?: Error) => void,
): AttemptSession<pg.PoolClient> {
  const watched = watchClient(raw);
  const discard = (reason: unknown): void => {
    watched.stopWatching();
    raw.on('error', () => {}); // a late socket error must not crash the process
    giveBack(raw, reason instanceof Error ? reason : new Error(String(reason)));
  };
  return {
    handle: watched.client,
    async begin(mode: BeginMode, savepoint: string | undefined) {
      await raw.query(savepoint ? `${beginStatement(mode)}; SAVEPOINT ${savepoint}` : beginStatement(mode));
    },
    ...clientSteps(raw),
    async commit() {
      return (await raw.query('COMMIT')).command === 'ROLLBACK' ? 'rolled back' : 'committed';
    },
    async rollback() {
      await raw.query('ROLLBACK');
    },
    state: () => pgTransactionState(raw),
    get brokenBy() {
      return watched.brokenBy;
    },
    get lastQueryError() {
      return watched.lastQueryError;
    },
    startAttempt: () => watched.startAttempt(),
    async release() {
      if (pgTransactionState(raw) !== 'idle') {
        discard(new Error('connection still inside a transaction'));
        return;
      }
      watched.stopWatching();
      giveBack(raw);
    },
    discard,
  };
}

/**
 * `BEGIN ISOLATION LEVEL … [READ ONLY]`: the level is explicit whatever the
 * server's default, and READ ONLY comes after it: PostgreSQL's and CockroachDB's
 * BEGIN both take a list of modes
 * (https://www.cockroachlabs.com/docs/stable/begin-transaction#parameters).
 */
export function beginStatement(mode: BeginMode): string {
  return `BEGIN ISOLATION LEVEL ${mode.isolation.toUpperCase()}${mode.readOnly ? ' READ ONLY' : ''}`;
}

/**
 * The transaction state from the last ReadyForQuery of a node-postgres client,
 * or undefined while that is not known yet: node-postgres rejects a failed
 * statement on the server's ErrorResponse, and when the ReadyForQuery behind it
 * comes in a later packet, the status still says "open" for a moment. Then
 * `readyForQuery` is false, and the core asks the server instead of trusting it.
 */
export function pgTransactionState(client: pg.ClientBase): TransactionState | undefined {
  const { readyForQuery, getTransactionStatus } = client as unknown as {
    readyForQuery?: boolean;
    getTransactionStatus?(): string | null;
  };
  if (readyForQuery === false) return undefined;
  const status = getTransactionStatus?.call(client);
  return status === 'I' ? 'idle' : status === 'T' ? 'open' : status === 'E' ? 'failed' : undefined;
}

/** What a data layer does on a node-postgres connection it holds (Knex, TypeORM, Sequelize). */
export interface LayerOnConnection<Tx> {
  /** What the transaction callback receives. */
  readonly handle: Tx;
  begin(mode: BeginMode, savepoint: string | undefined): Promise<void>;
  commit(): Promise<'committed' | 'rolled back'>;
  rollback(): Promise<void>;
  /** Gives the idle, healthy connection back to the layer's pool (a no-op where COMMIT already did). */
  giveBack(): Promise<void> | void;
  /** Sees to it that the layer's pool never hands the connection out again. */
  destroy(reason: Error): void;
}

/**
 * A session on a driver connection that a data layer holds: the core's own
 * statements go straight to the connection, the transaction state is read from
 * it, its first socket error is remembered, and it goes back to the layer's pool
 * only when idle and healthy; otherwise the layer destroys it.
 */
export function sessionOnConnection<Tx>(raw: pg.ClientBase, layer: LayerOnConnection<Tx>): AttemptSession<Tx> {
  let brokenBy: unknown;
  const onError = (error: unknown): void => {
    brokenBy ??= error;
  };
  raw.on('error', onError);
  const discard = (reason: unknown): void => {
    raw.removeListener('error', onError);
    raw.on('error', () => {}); // a late socket error must not crash the process
    layer.destroy(reason instanceof Error ? reason : new Error(String(reason)));
  };
  return {
    get handle() {
      return layer.handle;
    },
    begin: (mode, savepoint) => layer.begin(mode, savepoint),
    ...clientSteps(raw),
    commit: () => layer.commit(),
    rollback: () => layer.rollback(),
    state: () => pgTransactionState(raw),
    get brokenBy() {
      return brokenBy;
    },
    lastQueryError: undefined,
    startAttempt() {},
    async release() {
      if (pgTransactionState(raw) !== 'idle') {
        discard(new Error('connection still inside a transaction'));
        return;
      }
      raw.removeListener('error', onError);
      await layer.giveBack();
    },
    discard,
  };
}

const stepsByClient = new WeakMap<pg.ClientBase, CoreSteps>();

/**
 * The core's steps sent straight to a node-postgres connection, made once per
 * connection: a pooled connection serves many sessions, one per statement.
 */
function clientSteps(raw: pg.ClientBase): CoreSteps {
  let steps = stepsByClient.get(raw);
  if (steps === undefined) {
    steps = coreSteps({
      query: async (sql) => (await raw.query(sql)).rows,
      execute: async (sql) => {
        await raw.query(sql);
      },
    });
    stepsByClient.set(raw, steps);
  }
  return steps;
}
