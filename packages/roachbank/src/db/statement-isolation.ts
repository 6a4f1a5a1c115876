import type pg from 'pg';

/**
 * The isolation a session runs single statements at outside BEGIN: its
 * `default_transaction_isolation` ('serializable', 'read committed', …).
 *
 * @example
 * await statementIsolation(pool) // 'read committed' on roachbank's own pools
 */
export async function statementIsolation(queryable: pg.Pool | pg.ClientBase): Promise<string> {
  const { rows } = await queryable.query<{ level: string }>("SELECT current_setting('default_transaction_isolation') AS level");
  return rows[0]?.level ?? 'unknown';
}
