// The two Python tutorials beside roachbank's `example hello` and `example crud`,
// launch to exit, on the same server in the same run (npm run bench, npm run
// bench:start). Runs are interleaved, one of each command per round, medians.
//   - SQLAlchemy: main.py and models.py exactly as the tutorial prints them
//     (../shared/seed), taken from the seed at run time. Unchanged: its
//     cockroachdb:// dialect and run_transaction work on PostgreSQL as they are.
//     The tutorial has the user create the table with dbinit.sql first; so does
//     this harness, before every run, outside the timing.
//   - psycopg2: the tutorial describes example.py without printing it;
//     bench/python/hello_psycopg2.py is that program (its one change for
//     PostgreSQL, INSERT … ON CONFLICT for UPSERT, is written there).
// Every run's output is checked (the balances, 100 created, 5 deleted, 95 left):
// a demo that failed is not timed as if it had worked.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { pythonVenv } from '../tools/python-venv.js';
import { interleavedSamples } from './interleaved-samples.js';
import { median } from './median.js';
import { timeCommand } from './time-command.js';

const root = new URL('..', import.meta.url).pathname;
const seedDir = join(root, '../shared/seed');

// dbinit.sql, as the SQLAlchemy tutorial prints it.
const dbinit = 'CREATE TABLE accounts (id UUID PRIMARY KEY, balance INT8)';

const helloOutput = /^Balances at .+:\n\(1, 1000\)\n\(2, 250\)\nBalances at .+:\n\(1, 900\)\n\(2, 350\)\n$/;

interface Demo {
  readonly name: string;
  readonly command: string;
  readonly argv: readonly string[];
  /** Its own database, when it talks to one. */
  readonly database?: string;
  /** SQL run on its database before each run, not timed. */
  readonly prepare?: string;
  /** Checks one run's output (and the database after it). */
  readonly check?: (stdout: string, db: pg.Pool) => Promise<void>;
}

/** main.py and models.py from the SQLAlchemy tutorial in the seed, in a fresh directory; null without the seed. */
function sqlalchemyTutorial(): string | null {
  if (!existsSync(seedDir)) return null;
  for (const file of readdirSync(seedDir)) {
    const text = readFileSync(join(seedDir, file), 'utf8');
    const blocks = [...text.matchAll(/```python\n(.*?)```/gs)].map((match) => match[1]!);
    const models = blocks.find((block) => block.startsWith('from sqlalchemy import Column'));
    const main = blocks.find((block) => block.includes('run_transaction(sessionmaker'));
    if (!models || !main) continue;
    const dir = mkdtempSync(join(tmpdir(), 'roachbank-sqlalchemy-tutorial-'));
    writeFileSync(join(dir, 'models.py'), models);
    writeFileSync(join(dir, 'main.py'), main);
    return dir;
  }
  return null;
}

async function crudCheck(stdout: string, db: pg.Pool): Promise<void> {
  const created = stdout.match(/^Created new account with id /gm)?.length ?? 0;
  const deleted = stdout.match(/^Deleted account /gm)?.length ?? 0;
  const left = Number((await db.query('SELECT count(*) AS n FROM accounts')).rows[0].n);
  if (created !== 100 || deleted !== 5 || left !== 95 || !/^Transfer complete\.$/m.test(stdout)) {
    throw new Error(`crud demo: ${created} created, ${deleted} deleted, ${left} left:\n${stdout.slice(-400)}`);
  }
}

async function helloCheck(stdout: string): Promise<void> {
  if (!helloOutput.test(stdout)) throw new Error(`hello demo printed:\n${stdout}`);
}

/**
 * Times both tutorials and roachbank's examples on the server at `adminUrl`
 * (a superuser URL: each command gets a database of its own) and returns the
 * table; null when the seed is not beside the project.
 */
export async function benchTutorials(adminUrl: string, runs: number): Promise<string | null> {
  const tutorial = sqlalchemyTutorial();
  if (!tutorial) {
    console.log(`no SQLAlchemy tutorial in ${seedDir}: the tutorials are not compared`);
    return null;
  }
  const python = join(pythonVenv('bench/python/requirements.txt'), 'python');
  const bin = join(root, 'packages/roachbank-app/bin/roachbank.js');
  const demos: Demo[] = [
    { name: 'node -e 0', command: process.execPath, argv: ['-e', '0'] },
    { name: 'python -c pass', command: python, argv: ['-c', 'pass'] },
    {
      name: 'roachbank example hello',
      command: process.execPath,
      argv: [bin, 'example', 'hello'],
      database: 'tutorial_hello_ts',
      check: helloCheck,
    },
    {
      name: 'psycopg2 tutorial',
      command: python,
      argv: [join(root, 'bench/python/hello_psycopg2.py')],
      database: 'tutorial_hello_py',
      check: helloCheck,
    },
    {
      name: 'roachbank example crud',
      command: process.execPath,
      argv: [bin, 'example', 'crud'],
      database: 'tutorial_crud_ts',
      prepare: 'DROP TABLE IF EXISTS accounts',
      check: crudCheck,
    },
    {
      name: 'SQLAlchemy tutorial',
      command: python,
      argv: [join(tutorial, 'main.py')],
      database: 'tutorial_crud_py',
      prepare: `DROP TABLE IF EXISTS accounts; ${dbinit}`,
      check: crudCheck,
    },
  ];

  const admin = createPool(adminUrl, { max: 1 });
  const pools = new Map<string, pg.Pool>();
  const urlOf = (database: string) => Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  try {
    for (const { database } of demos) {
      if (!database) continue;
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${database}`);
      pools.set(database, createPool(urlOf(database), { max: 1 }));
    }
    const { DATABASE_URL: _unset, ...env } = process.env;
    const runOnce = async (demo: Demo): Promise<number> => {
      const db = demo.database ? pools.get(demo.database)! : undefined;
      if (demo.prepare) await db!.query(demo.prepare);
      const { ms, stdout } = timeCommand(
        demo.command,
        demo.argv,
        demo.database ? { ...env, DATABASE_URL: urlOf(demo.database) } : env,
      );
      await demo.check?.(stdout, db!);
      return ms;
    };
    const samples = await interleavedSamples(demos, runs, runOnce);
    const at = (name: string) => median(samples.get(name)!);
    const row = (demo: string, ours: string, theirs: string) => {
      const [a, b] = [at(ours), at(theirs)];
      const own = (value: number, floor: string) => Math.round(value - at(floor));
      return `| ${demo} | ${Math.round(a)} | ${Math.round(b)} | ${(a / b).toFixed(2)} | ${own(a, 'node -e 0')} | ${own(b, 'python -c pass')} |`;
    };
    return [
      `| demo | roachbank median ms | Python tutorial median ms | roachbank ÷ Python | roachbank − \`node -e 0\` | Python − \`python -c pass\` |`,
      '|---|---:|---:|---:|---:|---:|',
      row('hello (psycopg2 tutorial)', 'roachbank example hello', 'psycopg2 tutorial'),
      row('crud (SQLAlchemy tutorial)', 'roachbank example crud', 'SQLAlchemy tutorial'),
      `| interpreter start | ${Math.round(at('node -e 0'))} | ${Math.round(at('python -c pass'))} | ${(at('node -e 0') / at('python -c pass')).toFixed(2)} | | |`,
    ].join('\n');
  } finally {
    for (const pool of pools.values()) await pool.end();
    for (const { database } of demos) {
      if (database) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    }
    await admin.end();
  }
}
