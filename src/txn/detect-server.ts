import type pg from 'pg';

/** Which engine answers on a connection. */
export interface ServerInfo {
  readonly kind: 'cockroachdb' | 'postgresql';
  /** The server's own `version()` string. */
  readonly version: string;
}

/**
 * Asks the server what it is, from `SELECT version()`: CockroachDB says
 * "CockroachDB CCL v24.1.0 ...", PostgreSQL says "PostgreSQL 18.0 ...".
 *
 * @example
 * const { kind } = await detectServer(pool) // 'postgresql'
 */
export async function detectServer(queryable: pg.Pool | pg.ClientBase): Promise<ServerInfo> {
  const { rows } = await queryable.query<{ version: string }>('SELECT version() AS version');
  const version = rows[0]?.version ?? '';
  return { kind: /cockroach/i.test(version) ? 'cockroachdb' : 'postgresql', version };
}
