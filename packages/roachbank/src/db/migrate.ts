import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { sqlState } from '../txn/classify-error.js';
import { detectServer } from '../txn/detect-server.js';
import { cockroachSchemaJobsDoneSql } from './cockroach-schema-jobs.js';
import { type Engine, loadMigrations, type Migration } from './migration-files.js';
import { type HeldLease, leaseTableSql, takeMigrationLease } from './migration-lease.js';
import { describedFailure } from './pool-target.js';
import { runRead } from './run-read.js';

export { type Engine, loadMigrations, type Migration, splitStatements } from './migration-files.js';

export interface MigrationState {
  readonly version: number;
  readonly name: string;
  readonly state: 'applied' | 'in progress' | 'pending';
  readonly appliedAt: Date | null;
}

export interface MigrateOptions {
  /**
   * How long the migration lease lasts unless renewed, in ms; its holder renews
   * it every third of that. A process that finds it fresh waits (however long
   * the holder works); one that finds it stale takes it over. Default 15000.
   */
  readonly leaseMs?: number;
  /** Where the migration files are. Default: the package's `migrations/`. */
  readonly dir?: string;
  /** Told after each run of a back-fill (a statement repeated until it changes no row): how far it has got. */
  readonly onProgress?: (progress: BackfillProgress) => void;
}

/** How far a back-fill has got: the rows its runs changed so far (0 on the last run, which found none). */
export interface BackfillProgress {
  readonly version: number;
  readonly name: string;
  /** The statement's place in its file, from 1. */
  readonly statement: number;
  readonly runs: number;
  readonly rows: number;
  readonly done: boolean;
}

// The bookkeeping: a version's row is written once its statements have finished.
const bootstrap = [
  'CREATE SCHEMA IF NOT EXISTS roachbank',
  `CREATE TABLE IF NOT EXISTS roachbank.schema_migrations (
     version    INT8 PRIMARY KEY,
     name       TEXT NOT NULL,
     started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
     applied_at TIMESTAMPTZ
   )`,
  leaseTableSql,
];

/**
 * Applies every pending migration, in order, and returns the versions this call
 * applied. Safe to run from many processes at once and on CockroachDB, where a
 * schema change is a job that can take minutes (an index backfill):
 *
 * 1. Creates the bookkeeping tables if needed.
 * 2. Takes the migration lease (`takeMigrationLease`), or waits while another
 *    process holds a fresh one, and takes it over once it is stale (its holder
 *    died or lost the database): the same DDL never runs twice at once.
 * 3. Runs each pending version's statements one by one on one connection, with
 *    `statement_timeout = 0` (a backfill must not be cut by the URL's timeout),
 *    each in its own implicit transaction: CockroachDB returns from a schema
 *    change in an implicit transaction when its job has finished
 *    (docs: "Online Schema Changes"), and does not mix DDL and DML in one
 *    explicit transaction. On CockroachDB it first waits for schema-change jobs
 *    still running (a dead holder's backfill goes on without it), so that
 *    `IF NOT EXISTS` is not answered by an index that is still being built.
 * 4. Records the version (`applied_at`) after its statements, while still
 *    holding the lease; a holder that lost it stops.
 *
 * @example
 * await migrate(pool); // [1, 2, 3] on a fresh database, [] afterwards
 */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<number[]> {
  try {
    return await migrateUnderLease(pool, options);
  } catch (error) {
    throw describedFailure(pool, error);
  }
}

async function migrateUnderLease(pool: pg.Pool, options: MigrateOptions): Promise<number[]> {
  const leaseMs = options.leaseMs ?? 15_000;
  if (!(Number.isInteger(leaseMs) && leaseMs >= 100))
    throw new RangeError(`leaseMs must be a whole number of ms ≥ 100, got ${leaseMs}`);
  await runBootstrap(pool);
  const { kind } = await runRead(pool, (client) => detectServer(client));
  const migrations = await loadMigrations(options.dir, kind);
  for (;;) {
    if ((await pendingOf(pool, migrations)).length === 0) return [];
    const lease = await takeMigrationLease(pool, leaseMs);
    if (lease) {
      try {
        return await applyPending(pool, migrations, lease, kind, options.onProgress);
      } finally {
        await lease.release();
      }
    }
    await sleep(Math.min(250, Math.floor(leaseMs / 4)));
  }
}

async function applyPending(
  pool: pg.Pool,
  migrations: readonly Migration[],
  lease: HeldLease,
  engine: Engine,
  onProgress: MigrateOptions['onProgress'],
): Promise<number[]> {
  const applied: number[] = [];
  const client = await pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    if (engine === 'postgresql') await cancelWhenClientDies(client);
    for (const migration of await pendingOf(client, migrations)) {
      if (engine === 'cockroachdb') await client.query(cockroachSchemaJobsDoneSql);
      for (const [index, statement] of migration.statements.entries()) {
        const repeat = migration.repeat.includes(index);
        for (let runs = 1, rows = 0; ; runs++) {
          lease.assertHeld();
          const { rowCount } = await client.query(statement);
          if (!repeat) break;
          rows += rowCount ?? 0;
          const { version, name } = migration;
          onProgress?.({ version, name, statement: index + 1, runs, rows, done: !rowCount });
          if (!rowCount) break;
        }
      }
      await record(client, migration, lease);
      applied.push(migration.version);
    }
    return applied;
  } finally {
    // Its statement_timeout was changed: the connection is closed, not handed back to the pool.
    client.release(true);
  }
}

/** Sent to PostgreSQL only (CockroachDB has no such session variable). */
export const cancelWhenClientDiesSql = 'SET client_connection_check_interval = 1000';

/**
 * On PostgreSQL, a statement whose client has died runs on to its end (and may
 * commit) unless the server checks the socket while it runs: with this, a
 * killed holder's DDL is cancelled within a second, long before its lease lapses
 * and another process runs the same DDL. PostgreSQL 14 and later; an older
 * server does without. (CockroachDB runs a schema change as a job that goes on
 * without its session: there, `migrate` waits for running jobs instead.)
 */
async function cancelWhenClientDies(client: pg.PoolClient): Promise<void> {
  try {
    await client.query(cancelWhenClientDiesSql);
  } catch (error) {
    if (sqlState(error) !== '42704') throw error;
  }
}

/**
 * Marks a version applied, in one statement with the check that this process still
 * holds the lease (one statement is one transaction). On the migration's own
 * connection, so a pool of one connection is enough.
 */
async function record(client: pg.ClientBase, migration: Migration, lease: HeldLease): Promise<void> {
  lease.assertHeld();
  for (let attempt = 1; ; attempt++) {
    try {
      const { rowCount } = await client.query(recordSql, [migration.version, migration.name, lease.holder]);
      if (rowCount !== 1)
        throw new Error(`the migration lease passed to another process before version ${migration.version} was recorded`);
      return;
    } catch (error) {
      // 40001 against a taker's attempt on the lease row: the statement is run again.
      if (sqlState(error) !== '40001' || attempt >= 5) throw error;
      await sleep(20 * attempt);
    }
  }
}

const recordSql = `INSERT INTO roachbank.schema_migrations (version, name, applied_at)
SELECT $1::INT8, $2::TEXT, now() FROM roachbank.migration_lease
WHERE name = 'schema' AND holder = $3::UUID AND expires_at > now()
ON CONFLICT (version) DO UPDATE SET applied_at = excluded.applied_at
RETURNING version`;

async function pendingOf(pool: pg.Pool | pg.ClientBase, migrations: readonly Migration[]): Promise<Migration[]> {
  const { rows } = await pool.query<{ version: string }>(
    'SELECT version FROM roachbank.schema_migrations WHERE applied_at IS NOT NULL',
  );
  const applied = new Set(rows.map((row) => Number(row.version)));
  return migrations.filter((m) => !applied.has(m.version));
}

/**
 * Migrates only if something is pending: one query when the schema is current,
 * which every bank command pays before it starts.
 *
 * @example
 * await ensureSchema(pool);
 */
export async function ensureSchema(pool: pg.Pool, options: MigrateOptions = {}): Promise<void> {
  if ((await migrationStatus(pool, options)).some((m) => m.state !== 'applied')) await migrate(pool, options);
}

/**
 * Every known migration with its state in the database.
 *
 * @example
 * (await migrationStatus(pool))[0] // { version: 1, name: 'product_schema', state: 'applied', ... }
 */
export async function migrationStatus(pool: pg.Pool, options: Pick<MigrateOptions, 'dir'> = {}): Promise<MigrationState[]> {
  const known = await loadMigrations(options.dir);
  // A read, retried on a lost connection within the retry budget: every bank command starts with it.
  const rows = await runRead(pool, async (client) => {
    const read = (sql: string) => client.query<{ version: string | null; applied_at: Date | null; leased: boolean }>(sql);
    try {
      return (await read(statusSql)).rows;
    } catch (error) {
      // A schema from before the lease: its versions still count.
      if (sqlState(error) !== '42P01') throw error;
      return (await read('SELECT version, applied_at, false AS leased FROM roachbank.schema_migrations')).rows;
    }
  }).catch((error: unknown) => {
    if (sqlState(error) === '42P01' || sqlState(error) === '3F000') return [];
    throw error;
  });
  const leased = rows.some((row) => row.leased);
  const byVersion = new Map(rows.filter((row) => row.version !== null).map((row) => [Number(row.version), row.applied_at]));
  return known.map(({ version, name }) => {
    const appliedAt = byVersion.get(version) ?? null;
    const state = appliedAt ? 'applied' : leased ? 'in progress' : 'pending';
    return { version, name, state, appliedAt };
  });
}

// One statement: every bank command pays it before it starts.
const statusSql = `SELECT m.version, m.applied_at, l.leased
FROM (SELECT EXISTS (SELECT 1 FROM roachbank.migration_lease WHERE expires_at > now()) AS leased) AS l
LEFT JOIN roachbank.schema_migrations AS m ON true`;

/**
 * PostgreSQL's `IF NOT EXISTS` is not safe against a concurrent creator: try again if one won.
 * The loser sees whichever catalog entry collided first: the schema (42P06), the table (42P07),
 * its row type (42710, "type ... already exists") or a catalog index (23505).
 */
async function runBootstrap(pool: pg.Pool): Promise<void> {
  for (const statement of bootstrap) {
    for (let attempt = 1; ; attempt++) {
      try {
        await pool.query(statement);
        break;
      } catch (error) {
        const raced = ['23505', '42P06', '42P07', '42710', '40001'].includes(sqlState(error) ?? '');
        if (!raced || attempt >= 5) throw error;
        await sleep(20 * attempt);
      }
    }
  }
}
