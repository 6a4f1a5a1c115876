import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerInfo } from '../txn/detect-server.js';

/** One versioned SQL file of `migrations/`, e.g. `0001_product_schema.sql`, in the form for one engine. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
  /**
   * The statements (by index) that run again until they change no row: a backfill in
   * bounded batches, marked in the file by a line `-- repeat until no row changes`
   * right above it. One UPDATE of a whole journal would be one transaction of every
   * row, which CockroachDB's docs advise against ("Bulk-update Data": update in
   * batches, https://www.cockroachlabs.com/docs/v24.1/bulk-update-data).
   */
  readonly repeat: readonly number[];
}

/** The marker of a statement that runs until it changes no row (`Migration.repeat`). */
export const repeatMarker = '-- repeat until no row changes';

export type Engine = ServerInfo['kind'];

// The package's own migrations/, found by the package's name (Node resolves a
// package's own name from inside it): the same folder from src/, from dist/, and
// from the application's CLI bundle, which carries this code but not the files.
const migrationsDir = join(dirname(createRequire(import.meta.url).resolve('roachbank/package.json')), 'migrations');

const fileName = /^(\d+)_([\w-]+?)(?:\.(postgresql|cockroachdb))?\.sql$/;

/**
 * The migrations shipped with roachbank, in version order, as `engine` runs
 * them. A file is `NNNN_name.sql` for both engines, or a pair
 * `NNNN_name.postgresql.sql` and `NNNN_name.cockroachdb.sql` where they must
 * differ (a hash-sharded index is CockroachDB's alone). Its statements end with
 * `;` at the end of a line, and every one must be idempotent (`IF NOT EXISTS`,
 * `IF EXISTS`): a holder that died half way leaves its version to be run again.
 *
 * @example
 * (await loadMigrations()).map((m) => m.version) // [1, 2, 3]
 */
export async function loadMigrations(dir: string = migrationsDir, engine: Engine = 'postgresql'): Promise<Migration[]> {
  const byVersion = new Map<number, { name: string; files: Map<string, string> }>();
  for (const file of (await readdir(dir)).sort()) {
    const match = fileName.exec(file);
    if (!match) continue;
    const version = Number(match[1]);
    const entry = byVersion.get(version) ?? { name: match[2]!, files: new Map<string, string>() };
    if (entry.name !== match[2]) throw new Error(`migration ${version} has two names: ${entry.name} and ${match[2]}`);
    entry.files.set(match[3] ?? 'both', file);
    byVersion.set(version, entry);
  }
  const migrations = [...byVersion].sort(([a], [b]) => a - b);
  return Promise.all(
    migrations.map(async ([version, { name, files }]) => {
      const shared = files.size === 1 && files.has('both');
      const perEngine = files.size === 2 && files.has('postgresql') && files.has('cockroachdb');
      if (!shared && !perEngine) {
        throw new Error(`migration ${version} must be one file, or one file for each engine: ${[...files.values()].join(', ')}`);
      }
      const file = files.get('both') ?? files.get(engine);
      const text = await readFile(`${dir}/${file}`, 'utf8');
      return { version, name, statements: splitStatements(text), repeat: repeatedStatements(text) };
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

/** The indexes (as `splitStatements` counts) of the statements marked with `repeatMarker`. */
export function repeatedStatements(sql: string): number[] {
  const repeat: number[] = [];
  let index = 0;
  let marked = false;
  let open = false;
  for (const line of sql.split('\n')) {
    if (line.trim() === repeatMarker) marked = true;
    if (/^\s*--/.test(line) || (line.trim() === '' && !open)) continue;
    open = true;
    if (/;\s*$/.test(line)) {
      if (marked) repeat.push(index);
      index++;
      marked = false;
      open = false;
    }
  }
  return repeat;
}
