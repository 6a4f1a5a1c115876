import type pg from 'pg';
import { statementIsolation } from '../db/statement-isolation.js';
import { detectServer } from '../txn/detect-server.js';
import { type RunTransactionOptions, runSingleStatement } from '../txn/run-transaction.js';
import { translateDatabaseError } from './bank-errors.js';

/** A parameter of a movement statement: ids, amounts, NULL for a missing side, or arrays of them. */
export type StatementValue = string | bigint | number | null | readonly (string | bigint | null)[];

/** A movement statement and the name it is prepared under on each connection. */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
  /**
   * Plan it once per connection on PostgreSQL (`plan_cache_mode = force_generic_plan` for
   * the session). The batch statement needs it: with arrays of unknown length, PostgreSQL's
   * `auto` mode judges the generic plan costlier and plans every execution again, which
   * took 0.3 ms of the 0.7 ms a two-account batch took here; the generic plan uses the same
   * primary-key lookups. The session's other prepared statements get generic plans too.
   */
  readonly planOnce?: boolean;
}

/** What roachbank learned about a connection, once (keyed by its socket wrapper). */
interface SessionTraits {
  readonly readCommitted: boolean;
  readonly postgres: boolean;
  planOnce: boolean;
}
const sessions = new WeakMap<object, SessionTraits>();

/** Sent to PostgreSQL only, once per connection: a generic plan from the first run (the statement's shape never changes). */
export const planOnceSql = 'SET plan_cache_mode = force_generic_plan';

async function sessionTraits(client: pg.ClientBase): Promise<SessionTraits> {
  const key = (client as unknown as { connection: object }).connection;
  let known = sessions.get(key);
  if (known === undefined) {
    const [isolation, server] = await Promise.all([statementIsolation(client), detectServer(client)]);
    known = { readCommitted: isolation === 'read committed', postgres: server.kind === 'postgresql', planOnce: false };
    sessions.set(key, known);
  }
  return known;
}

/**
 * Sets the session's generic plans once per connection on PostgreSQL (see
 * `NamedStatement.planOnce`), for a movement statement sent inside a transaction of
 * the caller's (an atomic group) rather than through `runMovementStatement`. A SET
 * in a transaction that rolls back is undone; the session is then still marked, which
 * costs only planning time (custom plans), never an answer.
 */
export async function planOnceOn(client: pg.ClientBase): Promise<void> {
  const session = await sessionTraits(client);
  if (session.postgres && !session.planOnce) {
    await client.query(planOnceSql);
    session.planOnce = true;
  }
}

/**
 * Runs a movement statement in one round trip and returns its rows, with the
 * retry rules of `runSingleStatement` (40001 and 40P01 are retried; a connection
 * lost once it was sent is `AmbiguousCommitError`), the database's bank
 * refusals translated (`translateDatabaseError`, which keeps the cause):
 *
 * - on a session whose default is READ COMMITTED (roachbank's own pools), as a
 *   prepared statement in autocommit, planned once per connection (2× the
 *   transfers/s of sending it unprepared);
 * - on any other session, as the batch `BEGIN ISOLATION LEVEL READ COMMITTED; …;
 *   COMMIT`, which PostgreSQL runs at READ COMMITTED and which CockroachDB, since
 *   it is one batch, can retry on the server.
 *
 * @example
 * const rows = await runMovementStatement(pool, { name: 'roachbank_move', text: moveSql }, values, {});
 */
export async function runMovementStatement<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  statement: NamedStatement,
  values: readonly StatementValue[],
  options: Omit<RunTransactionOptions, 'isolation' | 'protocol'>,
): Promise<R[]> {
  try {
    return await runSingleStatement(
      pool,
      async (client) => {
        const session = await sessionTraits(client);
        if (session.readCommitted) {
          if (statement.planOnce && session.postgres && !session.planOnce) {
            await client.query(planOnceSql);
            session.planOnce = true;
          }
          const { rows } = await client.query<R>({ name: statement.name, text: statement.text, values: [...values] });
          return rows;
        }
        const results = (await client.query(
          readCommittedBatch(client, statement.text, values),
        )) as unknown as pg.QueryResult<R>[];
        const [, answer, commit] = results;
        if (commit?.command !== 'COMMIT') throw new Error(`the batch ended with ${commit?.command ?? 'nothing'}, not COMMIT`);
        return answer!.rows;
      },
      options,
    );
  } catch (error) {
    throw translateDatabaseError(error);
  }
}

/**
 * The statement as `BEGIN ISOLATION LEVEL READ COMMITTED; …; COMMIT`. A batch takes no
 * parameters, so the values are written in as literals: ids already checked as UUIDs,
 * amounts as bigints, arrays as array literals, and escaped all the same.
 */
function readCommittedBatch(client: pg.ClientBase, text: string, values: readonly StatementValue[]): string {
  const element = (value: string | bigint | null) =>
    value === null ? 'NULL' : typeof value === 'string' ? `"${value.replace(/["\\]/g, '\\$&')}"` : `${BigInt(value)}`;
  const literal = (value: StatementValue | undefined): string => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) return client.escapeLiteral(`{${value.map(element).join(',')}}`);
    return typeof value === 'string' ? client.escapeLiteral(value) : `${BigInt(value as bigint | number)}`;
  };
  // Every digit of the number: `$10` is the tenth value (the statements hold no `$` in literals).
  const statement = text.replace(/\$(\d+)/g, (_, n: string) => {
    if (Number(n) < 1 || Number(n) > values.length) throw new RangeError(`$${n} has no value (${values.length} given)`);
    return literal(values[Number(n) - 1]);
  });
  return `BEGIN ISOLATION LEVEL READ COMMITTED;\n${statement};\nCOMMIT`;
}
