// Migrations as CockroachDB runs them: the claim is a lease its holder renews
// while it works. Others wait while it is fresh (however long a DDL step takes),
// take it over once it is stale (its holder was killed), and never run the same
// statements at the same time. Races across real processes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadMigrations, migrate, migrationStatus } from '../packages/roachbank/src/db/migrate.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const script = new URL('./support/migrate-process.ts', import.meta.url).pathname;

interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly applied?: number[];
  readonly stderr: string;
}

/** A migrating process; its own statements are test SQL, so the SQL recorder is left out of it. */
function migrating(url: string, dir: string, leaseMs: number): { child: ChildProcess; done: Promise<Finished> } {
  const { ROACHBANK_RECORD_SQL: _recording, NODE_OPTIONS: _options, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, dir, String(leaseMs)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Finished>((resolve) =>
    child.once('close', (code, signal) => {
      const line = stdout.trim().split('\n').pop();
      resolve({ code, signal, stderr, ...(code === 0 && line ? (JSON.parse(line) as { applied: number[] }) : {}) });
    }),
  );
  return { child, done };
}

/**
 * A migration folder whose version 2 writes a `start` step, runs a slow DDL
 * statement (CREATE TABLE AS over pg_sleep), then writes an `end` step: each
 * run of it leaves a (start, end) pair in `steps`, with its session's pid.
 */
async function slowMigrations(seconds: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'roachbank-migrations-'));
  await writeFile(
    join(dir, '0001_steps.sql'),
    'CREATE TABLE IF NOT EXISTS public.steps (pid INT8 NOT NULL, what TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());\n',
  );
  await writeFile(
    join(dir, '0002_slow.sql'),
    [
      "INSERT INTO public.steps (pid, what) VALUES (pg_backend_pid(), 'start');",
      'DROP TABLE IF EXISTS public.slow;',
      `CREATE TABLE public.slow AS SELECT pg_sleep(${seconds})::TEXT AS slept;`,
      "INSERT INTO public.steps (pid, what) VALUES (pg_backend_pid(), 'end');",
      '',
    ].join('\n'),
  );
  return dir;
}

interface Step {
  pid: string;
  what: 'start' | 'end';
  at: Date;
}

async function stepsOf(db: TestDatabase): Promise<Step[]> {
  const { rows } = await db.pool.query<Step>('SELECT pid::TEXT AS pid, what, at FROM public.steps ORDER BY at');
  return rows;
}

describe('the migration lease', () => {
  let db: TestDatabase;
  const dirs: string[] = [];
  before(async () => {
    db = await createTestDatabase('migration_lease');
  });
  after(async () => {
    await db.drop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('three processes and a DDL step of 31 s (longer than the old fixed 30 s wait): it runs once, the others wait for it', async () => {
    const fresh = await createTestDatabase('migration_slow');
    const dir = await slowMigrations(31);
    dirs.push(dir);
    try {
      const runs = [1, 2, 3].map(() => migrating(fresh.url, dir, 2_000));
      const finished = await Promise.all(runs.map((run) => run.done));
      for (const run of finished) assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(finished.map((run) => run.applied!.length).sort(), [0, 0, 2], 'one process applied both versions');
      const steps = await stepsOf(fresh);
      assert.deepEqual(
        steps.map((s) => s.what),
        ['start', 'end'],
        'the slow version ran exactly once: the waiters neither ran it after 30 s nor alongside it',
      );
      assert.ok((await migrationStatus(fresh.pool, { dir })).every((s) => s.state === 'applied'));
      const { rows } = await fresh.pool.query('SELECT version, applied_at FROM roachbank.schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.map((r) => Number(r.version)),
        [1, 2],
      );
      assert.ok(rows[1].applied_at >= steps[1]!.at, 'the version was recorded after its last statement');
    } finally {
      await fresh.drop();
    }
  });

  test('a holder killed mid-migration: its lease expires, another process takes it over and finishes', async () => {
    const fresh = await createTestDatabase('migration_killed');
    const dir = await slowMigrations(3);
    dirs.push(dir);
    try {
      const leaseMs = 1_500;
      const holder = migrating(fresh.url, dir, leaseMs);
      // Killed once it is inside the slow step.
      for (let i = 0; i < 200; i++) {
        const started = await fresh.pool.query('SELECT 1 FROM public.steps').catch(() => ({ rowCount: 0 }));
        if (started.rowCount) break;
        await sleep(50);
      }
      holder.child.kill('SIGKILL');
      assert.equal((await holder.done).signal, 'SIGKILL');
      const { rows: lease } = await fresh.pool.query('SELECT expires_at FROM roachbank.migration_lease');
      assert.equal(lease.length, 1, 'the killed holder left its lease behind');
      assert.equal((await migrationStatus(fresh.pool, { dir }))[1]?.state, 'in progress', 'while the lease is fresh');

      const next = await migrating(fresh.url, dir, leaseMs).done;
      assert.equal(next.code, 0, next.stderr);
      assert.deepEqual(next.applied, [2], 'the next process applied the version the killed one had started');
      const starts = (await stepsOf(fresh)).filter((s) => s.what === 'start');
      assert.equal(starts.length, 2);
      assert.ok(starts[1]!.at >= lease[0].expires_at, 'the take-over began only once the lease had expired');
      assert.ok((await migrationStatus(fresh.pool, { dir })).every((s) => s.state === 'applied'));
      const { rowCount } = await fresh.pool.query('SELECT 1 FROM roachbank.migration_lease');
      assert.equal(rowCount, 0, 'the lease is given up at the end');
    } finally {
      await fresh.drop();
    }
  });

  test('concurrent `roachbank db init` from four processes: all succeed, every version recorded once, the schema complete', async () => {
    const fresh = await createTestDatabase('migration_cli');
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => runCli(['--json', 'db', 'init'], { DATABASE_URL: fresh.url })));
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const versions = (await loadMigrations()).map((m) => m.version);
      const applied = results.flatMap((result) => (JSON.parse(result.stdout) as { applied: number[] }).applied);
      assert.deepEqual(
        applied.sort((x, y) => x - y),
        versions,
        'each version applied by exactly one process',
      );
      assert.ok((await migrationStatus(fresh.pool)).every((s) => s.state === 'applied'));
      const { rows } = await fresh.pool.query(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'roachbank' AND tablename = 'transfers' ORDER BY indexname",
      );
      assert.deepEqual(
        rows.map((r) => r.indexname),
        [
          'transfers_from_chain_idx',
          'transfers_pkey',
          'transfers_reference_idx',
          'transfers_reversal_of_idx',
          'transfers_to_chain_idx',
        ],
      );
    } finally {
      await fresh.drop();
    }
  });

  test('a lease shorter than 100 ms is refused before anything is written', async () => {
    await assert.rejects(migrate(db.pool, { leaseMs: 10 }), RangeError);
    const { rowCount } = await db.pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'roachbank'");
    assert.equal(rowCount, 0);
  });
});
