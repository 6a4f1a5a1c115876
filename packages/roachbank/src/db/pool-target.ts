import type pg from 'pg';
import { describeConnectionError } from '../txn/describe-connection-error.js';

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

/**
 * A failure of work on this pool as the surfaces should see it: a database that
 * cannot be reached, a connection lost or a cancelled statement become
 * DATABASE_UNAVAILABLE naming the pool's target (never its password); anything
 * else is returned as it is. The db layer's public calls answer through it, as
 * the bank does, so no surface has to.
 *
 * @example
 * try { await migrate(pool) } catch (error) { throw describedFailure(pool, error) }
 */
export function describedFailure(pool: pg.Pool, error: unknown): unknown {
  return describeConnectionError(error, poolTarget(pool)) ?? error;
}
