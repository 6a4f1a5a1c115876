import type pg from 'pg';
import type { AttemptSession, BeginMode, SessionSource, TransactionState } from './attempt-session.js';
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
    async run(sql: string) {
      return (await raw.query(sql)).rows;
    },
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

/**
 * Remembers the first socket error of a driver connection that a data layer
 * holds (Knex, TypeORM, Sequelize), so the core knows not to pool it again.
 */
export function watchSocket(raw: pg.ClientBase): { readonly brokenBy: unknown; stop(): void } {
  let brokenBy: unknown;
  const onError = (error: unknown): void => {
    brokenBy ??= error;
  };
  raw.on('error', onError);
  return {
    get brokenBy() {
      return brokenBy;
    },
    stop: () => {
      raw.removeListener('error', onError);
    },
  };
}
