import type pg from 'pg';

/** Which engine answers on a connection. */
export interface ServerInfo {
  readonly kind: 'cockroachdb' | 'postgresql';
  /** The server's own `version()` string. */
  readonly version: string;
}

/** The one question that tells CockroachDB from PostgreSQL: `version()` names the engine. */
export const serverVersionSql = 'SELECT version() AS version';

/**
 * Asks the server what it is, from `SELECT version()`: CockroachDB says
 * "CockroachDB CCL v24.1.0 ...", PostgreSQL says "PostgreSQL 18.0 ...".
 *
 * @example
 * const { kind } = await detectServer(pool) // 'postgresql'
 */
export async function detectServer(queryable: pg.Pool | pg.ClientBase): Promise<ServerInfo> {
  const { rows } = await queryable.query<{ version: string }>(serverVersionSql);
  return serverInfoOf(rows[0]?.version ?? '');
}

/**
 * The engine behind a `version()` string.
 *
 * @example
 * serverInfoOf('CockroachDB CCL v24.1.0 (x86_64-pc-linux-gnu)').kind // 'cockroachdb'
 */
export function serverInfoOf(version: string): ServerInfo {
  return { kind: /cockroach/i.test(version) ? 'cockroachdb' : 'postgresql', version };
}
