// The test runner: one embedded PostgreSQL for the whole run (fresh data
// directory, TLS on with the fixture certificate, listening on 127.0.0.1 and
// 127.0.0.2), every test/*.test.ts through node:test, one file at a time, and
// a failure when no test ran at all. Suites make their own databases on it.
// Every SQL text the processes send is recorded (test/support/record-sql.mjs),
// and after a whole-suite run CockroachDB's parser checks the product's
// (tools/cockroach-sql-check).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planOnceSql } from '../packages/roachbank/src/bank/run-movement-statement.js';
import { followerVerifySql } from '../packages/roachbank/src/bank/verify-invariants.js';
import { cockroachSchemaJobsDoneSql } from '../packages/roachbank/src/db/cockroach-schema-jobs.js';
import { cancelWhenClientDiesSql, loadMigrations } from '../packages/roachbank/src/db/migrate.js';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = only.length
  ? only
  : (await readdir(join(root, 'test')))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test', f));

// The web UI test drives Debian's chromium: CI installs it (.ci/run), as the README says to.
if (!process.env.CHROMIUM_PATH && !existsSync('/usr/bin/chromium')) {
  console.log(
    'no /usr/bin/chromium: the web UI test will fail; install chromium (apt-get install chromium) or set CHROMIUM_PATH',
  );
}

const dataDir = await mkdtemp(join(tmpdir(), 'roachbank-test-'));
const started = Date.now();
const server = await acquireEmbeddedServer({
  dataDir,
  tls: { certFile: join(root, 'test/fixtures/tls/server.crt'), keyFile: join(root, 'test/fixtures/tls/server.key') },
  settings: { listen_addresses: "'127.0.0.1,127.0.0.2'", max_connections: '300' },
});
console.log(`test server: PostgreSQL on 127.0.0.1:${server.port}, ready in ${Date.now() - started} ms (${dataDir})`);

// Every SQL text the product sends, in this process and in each one the tests
// start (CLI, server), for the CockroachDB parser check below.
const sqlRecord = join(root, '.data/sql-record');
await rm(sqlRecord, { recursive: true, force: true });
const recording = {
  ROACHBANK_RECORD_SQL: sqlRecord,
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--enable-source-maps', `--import=${join(root, 'test/support/record-sql.mjs')}`]
    .filter(Boolean)
    .join(' '),
};

// The spec reporter for people; the counting reporter, from node:test's own events, for the verdict.
const countsFile = join(dataDir, 'counts.json');
const exitCode = await new Promise<number>((resolve) => {
  const reporters = [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'test/support/count-reporter.mjs')}`,
    `--test-reporter-destination=${countsFile}`,
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...reporters, '--test-concurrency=1', ...files], {
    cwd: root,
    env: { ...process.env, ...recording, ROACHBANK_TEST_URL: server.url },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('close', (code) => resolve(code ?? 1));
});

await server.release();
const counts: Record<string, number> = JSON.parse((await readFile(countsFile, 'utf8').catch(() => '{}')) || '{}');
await rm(dataDir, { recursive: true, force: true });

const count = (what: 'tests' | 'fail' | 'cancelled') => counts[what] ?? 0;
console.log(`counted from the runner's events: ${JSON.stringify(counts)}`);
// The whole suite ran: CockroachDB's parser over every statement it recorded, and over
// the product's statements that only CockroachDB is sent (never run here).
if (only.length === 0 && count('tests') > 0) await recordEngineOnlyStatements();
const sqlCheckFailed = only.length === 0 && count('tests') > 0 && !checkSqlWithCockroachParser();

if (count('tests') === 0) {
  console.error('no test ran: failing the run');
  process.exit(1);
}
if (count('cancelled') > 0 || count('fail') > 0) {
  console.error(`${count('fail')} failed, ${count('cancelled')} cancelled: failing the run`);
  process.exit(exitCode || 1);
}
if (sqlCheckFailed) process.exit(1);
process.exit(exitCode);

/**
 * The statements roachbank sends only to CockroachDB, recorded as the product's:
 * the CockroachDB form of each migration, verify at a follower-read timestamp, and
 * the wait for schema-change jobs. And the ones it sends only to PostgreSQL, marked
 * so: the check leaves them out wherever the suite recorded them.
 */
async function recordEngineOnlyStatements(): Promise<void> {
  const cockroach = [
    ...(await loadMigrations(undefined, 'cockroachdb')).flatMap((migration) => migration.statements),
    followerVerifySql,
    cockroachSchemaJobsDoneSql,
  ];
  const postgresql = [
    ...(await loadMigrations(undefined, 'postgresql'))
      .flatMap((migration) => migration.statements)
      .filter((text) => !cockroach.includes(text)),
    cancelWhenClientDiesSql,
    planOnceSql,
  ];
  await mkdir(sqlRecord, { recursive: true });
  const lines = (texts: string[], extra: object) =>
    texts.map((text) => `${JSON.stringify({ sender: 'product', text, ...extra })}\n`).join('');
  await writeFile(join(sqlRecord, 'cockroachdb-only.jsonl'), lines(cockroach, {}));
  await writeFile(join(sqlRecord, 'postgresql-only.jsonl'), lines(postgresql, { postgresqlOnly: true }));
}

/**
 * Runs tools/cockroach-sql-check (Go, CockroachDB's parser) over the recorded
 * statements; false when it refuses one. Without Go it is skipped with a
 * warning, except in CI, which must run it.
 */
function checkSqlWithCockroachParser(): boolean {
  const tool = join(root, 'tools/cockroach-sql-check');
  const go = spawnSync('go', ['run', '.', sqlRecord], { cwd: tool, stdio: 'inherit' });
  if ((go.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    if (process.env.CI) {
      console.error('no Go toolchain: CI must run the CockroachDB parser check (tools/cockroach-sql-check)');
      return false;
    }
    console.log('no Go toolchain: the CockroachDB parser check (tools/cockroach-sql-check) was skipped');
    return true;
  }
  return go.status === 0;
}
