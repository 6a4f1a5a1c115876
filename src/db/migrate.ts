import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { sqlState } from '../txn/classify-error.js';
import { runTransaction } from '../txn/run-transaction.js';
import { runRead } from './run-read.js';

/** One versioned SQL file of `migrations/`, e.g. `0001_product_schema.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export interface MigrationState {
  readonly version: number;
  readonly name: string;
  readonly state: 'applied' | 'in progress' | 'pending';
  readonly appliedAt: Date | null;
}

// src/db and dist/db are both two levels below the package root.
const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

// The bookkeeping table; its primary key is the version, so inserting a version's row is
// the lock that lets exactly one process apply it (CockroachDB has no advisory locks).
const bootstrap = [
  'CREATE SCHEMA IF NOT EXISTS roachbank',
  `CREATE TABLE IF NOT EXISTS roachbank.schema_migrations (
     version    INT8 PRIMARY KEY,
     name       TEXT NOT NULL,
     started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
     applied_at TIMESTAMPTZ
   )`,
];

/**
 * The migrations shipped with roachbank, in version order. A file is
 * `NNNN_name.sql`; its statements end with `;` at the end of a line, and every
 * one must be idempotent (`IF NOT EXISTS`).
 *
 * @example
 * (await loadMigrations()).map((m) => m.version) // [1]
 */
export async function loadMigrations(dir: string = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const [version, ...rest] = file.replace(/\.sql$/, '').split('_');
      return {
        version: Number(version),
        name: rest.join('_'),
        statements: splitStatements(await readFile(`${dir}/${file}`, 'utf8')),
      };
    }),
  );
}

/** Splits a migration file into statements: `--` comment lines dropped, a `;` at a line's end closes one. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of sql.split('\n')) {
    if (/^\s*--/.test(line) || (line.trim() === '' && current.length === 0)) continue;
    current.push(line);
    if (/;\s*$/.test(line)) {
      statements.push(current.join('\n').trim().replace(/;$/, ''));
      current = [];
    }
  }
  if (current.join('').trim()) throw new Error(`migration ends without ';': ${current.join('\n').trim().slice(0, 60)}`);
  return statements;
}

/**
 * Applies every pending migration, in order, and returns the versions this call
 * applied. Safe to run from many processes at once and on CockroachDB:
 *
 * 1. Creates the bookkeeping table if needed.
 * 2. For each version, inserts its row `ON CONFLICT DO NOTHING`: whoever inserts it applies it.
 * 3. Runs the file's statements one by one, each in its own implicit transaction
 *    (CockroachDB does not mix DDL and DML in one explicit transaction), then marks it applied.
 * 4. A process that lost the race waits for the version to be applied; if the
 *    winner died half way, it applies the (idempotent) statements itself.
 *
 * @example
 * await migrate(pool); // [1] on a fresh database, [] afterwards
 */
export async function migrate(pool: pg.Pool, options: { waitMs?: number } = {}): Promise<number[]> {
  await runBootstrap(pool);
  const applied: number[] = [];
  for (const migration of await loadMigrations()) {
    // Racing claimers meet 40001 at SERIALIZABLE: the retry core settles who won.
    const claim = await runTransaction(pool, (client) =>
      client.query(
        `INSERT INTO roachbank.schema_migrations (version, name) VALUES ($1, $2)
         ON CONFLICT (version) DO NOTHING RETURNING version`,
        [migration.version, migration.name],
      ),
    );
    if (claim.rowCount === 1) {
      try {
        await apply(pool, migration);
      } catch (error) {
        await pool.query('DELETE FROM roachbank.schema_migrations WHERE version = $1 AND applied_at IS NULL', [
          migration.version,
        ]);
        throw error;
      }
      applied.push(migration.version);
    } else if (!(await waitUntilApplied(pool, migration.version, options.waitMs ?? 30_000))) {
      await apply(pool, migration);
    }
  }
  return applied;
}

/**
 * Migrates only if something is pending: one query when the schema is current,
 * which every bank command pays before it starts.
 *
 * @example
 * await ensureSchema(pool);
 */
export async function ensureSchema(pool: pg.Pool): Promise<void> {
  if ((await migrationStatus(pool)).some((m) => m.state !== 'applied')) await migrate(pool);
}

/**
 * Every known migration with its state in the database.
 *
 * @example
 * (await migrationStatus(pool))[0] // { version: 1, name: 'product_schema', state: 'applied', ... }
 */
export async function migrationStatus(pool: pg.Pool): Promise<MigrationState[]> {
  const known = await loadMigrations();
  // A read, retried on a lost connection within the retry budget: every bank command starts with it.
  const { rows } = await runRead(pool, (client) =>
    client.query<{ version: string; applied_at: Date | null }>('SELECT version, applied_at FROM roachbank.schema_migrations'),
  ).catch((error: unknown) => {
    if (sqlState(error) === '42P01' || sqlState(error) === '3F000') return { rows: [] };
    throw error;
  });
  const byVersion = new Map(rows.map((row) => [Number(row.version), row.applied_at]));
  return known.map(({ version, name }) => {
    const appliedAt = byVersion.get(version);
    const state = appliedAt ? 'applied' : byVersion.has(version) ? 'in progress' : 'pending';
    return { version, name, state, appliedAt: appliedAt ?? null };
  });
}

async function apply(pool: pg.Pool, migration: Migration): Promise<void> {
  for (const statement of migration.statements) await pool.query(statement);
  await pool.query('UPDATE roachbank.schema_migrations SET applied_at = now() WHERE version = $1', [migration.version]);
}

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

async function waitUntilApplied(pool: pg.Pool, version: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const { rows } = await pool.query('SELECT applied_at FROM roachbank.schema_migrations WHERE version = $1', [version]);
    if (rows[0]?.applied_at) return true;
    await sleep(100);
  }
  return false;
}
