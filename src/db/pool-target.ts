import type pg from 'pg';

/**
 * A connection string that names where a pool connects, without its password:
 * the pool's own (as `createPool` gives it) or one made of its host, port, user
 * and database. For messages only (`describeConnectionError` names the target).
 *
 * @example
 * poolTarget(createPool('postgresql://max:s3cret@db:26257/bank')) // 'postgresql://max:s3cret@db:26257/bank' (describeTarget drops the password)
 */
export function poolTarget(pool: pg.Pool): string {
  const options = (pool as unknown as { options: pg.PoolConfig }).options;
  if (options.connectionString) return options.connectionString;
  const user = options.user ? `${encodeURIComponent(options.user)}@` : '';
  const host = options.host ?? 'localhost';
  return `postgresql://${user}${host}:${options.port ?? 5432}/${encodeURIComponent(options.database ?? '')}`;
}
