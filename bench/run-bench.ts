// npm run bench: on one server, in one run, uniform over 10,000 accounts and hot over 10,
// for concurrency 1, 8, 32 and 128:
//   - pgbench running the ideal transfer: the single-movement statement, prepared, in
//     autocommit at READ COMMITTED (one round trip, one commit per transfer);
//   - roachbank workload, --flavor pg with group commit (the default) and without it
//     (--batch off: one statement per transfer), and --flavor orm;
//   - the seed tutorial's approach: BEGIN, read the balance, two UPDATEs, COMMIT, retried;
//   - payment flows, batched and single (systems `cards` and `splits`): a card flow is a
//     hold then its post (two calls, counted as one flow), a split payment an atomic group
//     of two transfers (one call, one transaction of its own);
//   - then the two Python tutorials, launch to exit, beside `roachbank example hello` and
//     `example crud` (bench/tutorials.ts; TUTORIAL_RUNS rounds, default 9).
// The orm flavor and the tutorial stop at c=32. Each row also says where the CPU went:
// the server's (every PostgreSQL process) and this Node process's, per acknowledged transfer.
// Prints one table and appends it, dated, with the machine, to BENCHMARKS.md.
// BENCH_SECONDS: each run's length (default 20). DATABASE_URL: the server (default: embedded).
// For tuning: BENCH_CONCURRENCY=32,128  BENCH_SCENARIOS=uniform|hot  BENCH_SYSTEMS=pgbench,batched,single,orm,tutorial,python
// BENCH_BATCH=<maxSize>:<maxInFlight>  BENCH_NO_RECORD=1 (print only).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import type { BankOptions } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { moveSql } from '../packages/roachbank/src/bank/movement-statements.js';
import { OrmBank } from '../packages/roachbank/src/bank/orm-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { runTransaction } from '../packages/roachbank/src/txn/run-transaction.js';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';
import { transferFunds } from '../packages/roachbank-app/src/examples/hello.js';
import { LatencyRecorder } from '../packages/roachbank-app/src/workload/latency-recorder.js';
import { runWorkload } from '../packages/roachbank-app/src/workload/run-workload.js';
import { type SeededRandom, seededRandom } from '../packages/roachbank-app/src/workload/seeded-random.js';
import { benchTutorials } from './tutorials.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 20);
const listOf = (name: string) =>
  env[name]
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const concurrencies = listOf('BENCH_CONCURRENCY')?.map(Number) ?? [1, 8, 32, 128];
const scenarios = [
  { key: 'uniform', name: 'uniform 10,000', accounts: 10_000, hot: undefined },
  { key: 'hot', name: 'hot 10', accounts: 10, hot: 10 },
].filter((s) => listOf('BENCH_SCENARIOS')?.includes(s.key) ?? true);
const systems = new Set(
  listOf('BENCH_SYSTEMS') ?? ['pgbench', 'batched', 'single', 'orm', 'tutorial', 'cards', 'splits', 'python'],
);
const [maxSize, maxInFlight] = (env.BENCH_BATCH ?? '').split(':').map((v) => (v ? Number(v) : undefined));
const batchOptions = { ...(maxSize ? { maxSize } : {}), ...(maxInFlight ? { maxInFlight } : {}) };
/** Systems that only run up to this concurrency: they hold a connection per worker and gain nothing past it. */
const slowSystemsUpTo = 32;

interface Row {
  system: string;
  scenario: string;
  concurrency: number;
  tps: number;
  p50Ms: number;
  p99Ms: number;
  retries: number | string;
  meanBatch: number | null;
  serverUsPerOp: number | null;
  clientUsPerOp: number | null;
}

/**
 * CPU time of every PostgreSQL process, in ms: the postmaster's own and what it
 * reaped from exited backends, plus every live backend. Null for a server that is
 * not on this machine (DATABASE_URL elsewhere).
 */
function serverCpuMs(postmasterPid: number | undefined): number | null {
  if (postmasterPid === undefined) return null;
  const ticks = (pid: string, withChildren: boolean) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // After "pid (comm) ": state ppid … utime (14th field of the line) is fields[11].
      const own = Number(fields[11]) + Number(fields[12]);
      return { ppid: Number(fields[1]), total: own + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0) };
    } catch {
      return { ppid: -1, total: 0 };
    }
  };
  let total = ticks(String(postmasterPid), true).total;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const process = ticks(pid, false);
    if (process.ppid === postmasterPid) total += process.total;
  }
  return (total * 1000) / clockTicksPerSecond;
}
const clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The CPU a run used between `start()` and `end()`, per operation: the server's and this process's. */
function cpuMeter(postmasterPid: number | undefined) {
  let server0: number | null = null;
  let client0 = process.cpuUsage();
  let serverMs: number | null = null;
  let clientMs = 0;
  return {
    start() {
      server0 = serverCpuMs(postmasterPid);
      client0 = process.cpuUsage();
    },
    end() {
      const server1 = serverCpuMs(postmasterPid);
      const client = process.cpuUsage(client0);
      serverMs = server0 === null || server1 === null ? null : server1 - server0;
      clientMs = (client.user + client.system) / 1000;
    },
    perOp(ops: number, withClient: boolean) {
      const us = (ms: number) => Math.round((ms * 1000) / Math.max(1, ops));
      return { serverUsPerOp: serverMs === null ? null : us(serverMs), clientUsPerOp: withClient ? us(clientMs) : null };
    },
  };
}

function findPgbench(): string | undefined {
  try {
    return execFileSync('which', ['pgbench'], { encoding: 'utf8' }).trim() || undefined;
  } catch {}
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const found = readdirSync(root)
    .map((v) => join(root, v, 'bin', 'pgbench'))
    .filter(existsSync);
  return found.sort().at(-1);
}

// pgbench picks integers; the bench accounts' UUIDs are made from them, in SQL and in JS alike.
const uuidOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const uuidSql = (variable: string) => `('00000000-0000-4000-8000-' || lpad(to_hex(${variable}::INT8), 12, '0'))::UUID`;

async function freshDatabase(adminUrl: string, admin: pg.Pool, name: string): Promise<{ url: string; pool: pg.Pool }> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = benchPool(url.toString(), 20);
  await ensureSchema(pool);
  return { url: url.toString(), pool };
}

/** As roachbank's own pools are (openDatabase): single statements at READ COMMITTED. */
function benchPool(url: string, max: number): pg.Pool {
  return createPool(url, { max, statementIsolation: 'read committed' });
}

/** Opens the bench accounts, with UUIDs pgbench can name, through the bank. */
async function openAccounts(pool: pg.Pool, count: number): Promise<void> {
  const bank = createBank(pool);
  let next = 1;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next <= count) await bank.createAccount({ id: uuidOf(next++), balance: 1_000_000_000n });
    }),
  );
}

async function runPgbench(
  binary: string,
  url: string,
  accounts: number,
  concurrency: number,
  postmasterPid: number | undefined,
): Promise<Row | string> {
  const dir = await mkdtemp(join(tmpdir(), 'roachbank-pgbench-'));
  // The transfer id from random integers: gen_random_uuid() is volatile, and in WHERE id = …
  // it would turn the journal lookup into a scan of the whole journal.
  const hex = (variable: string, digits: number) => `lpad(to_hex(${variable}::INT8), ${digits}, '0')`;
  const transferId = `(${hex(':r1', 8)} || '-' || ${hex(':r2', 4)} || '-4' || ${hex(':r3', 3)} || '-8' || ${hex(':r4', 3)} || '-' || ${hex(':r5', 12)})::UUID`;
  const statement = moveSql
    .replaceAll('$1::UUID', transferId)
    .replaceAll('$2::UUID', uuidSql(':a'))
    .replaceAll('$3::UUID', uuidSql(':b'))
    .replaceAll('$4::INT8', ':amount::INT8')
    .replaceAll('$5::INT8', '2')
    .replaceAll('$6::TEXT', "'transfer'")
    .replaceAll('$7::TEXT', 'NULL::TEXT')
    .replaceAll('$8::TEXT', 'NULL::TEXT');
  const script = [
    '\\set a random(1, :naccounts)',
    '\\set b random(1, :naccounts - 1)',
    '\\set b CASE WHEN :b >= :a THEN :b + 1 ELSE :b END',
    '\\set amount random(1, 100)',
    '\\set r1 random(0, 4294967295)',
    '\\set r2 random(0, 65535)',
    '\\set r3 random(0, 4095)',
    '\\set r4 random(0, 4095)',
    '\\set r5 random(0, 281474976710655)',
    `${statement.replace(/\s+/g, ' ').trim()};`,
  ].join('\n');
  const scriptFile = join(dir, 'transfer.sql');
  await writeFile(scriptFile, script);
  const target = new URL(url);
  const args = [
    '-n',
    '-M',
    'prepared',
    '-c',
    String(concurrency),
    '-j',
    String(Math.min(concurrency, 2)),
    '-T',
    String(seconds),
    '-D',
    `naccounts=${accounts}`,
    '-f',
    scriptFile,
    '-l',
    '--log-prefix',
    join(dir, 'log'),
    '-h',
    target.hostname,
    '-p',
    target.port || '5432',
    '-U',
    decodeURIComponent(target.username),
    target.pathname.slice(1),
  ];
  const env = {
    ...process.env,
    PGOPTIONS: '-c default_transaction_isolation=read\\ committed',
    PGPASSWORD: decodeURIComponent(target.password),
  };
  const cpu = cpuMeter(postmasterPid);
  cpu.start();
  const output = await new Promise<string>((resolve) => {
    let text = '';
    const child = spawn(binary, args, { env, cwd: dir });
    child.stdout.on('data', (c: Buffer) => (text += c));
    child.stderr.on('data', (c: Buffer) => (text += c));
    child.on('close', () => resolve(text));
  });
  const tps = Number(/tps = ([\d.]+)/.exec(output)?.[1]);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1] ?? 0);
  // pgbench has exited, but its backends may not be reaped yet: their CPU only counts once
  // they are (a live backend's or the postmaster's children's), so give the postmaster a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  cpu.end();
  if (!tps) {
    await rm(dir, { recursive: true, force: true });
    return `pgbench failed: ${output.trim().split('\n').slice(-3).join(' ')}`;
  }
  const latency = new LatencyRecorder();
  for (const file of readdirSync(dir).filter((f) => f.startsWith('log'))) {
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
      const micros = Number(line.split(' ')[2]);
      if (micros > 0) latency.record(micros);
    }
  }
  await rm(dir, { recursive: true, force: true });
  const { p50Ms, p99Ms } = latency.total();
  const failed = Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? 0);
  return {
    system: 'pgbench (ideal)',
    scenario: '',
    concurrency,
    tps,
    p50Ms,
    p99Ms,
    retries: failed ? `${failed} failed` : 0,
    meanBatch: null,
    ...cpu.perOp(transactions, false),
  };
}

/** A bank on a pool of its own for one run, counting its retries and its batches. */
function countedBank(url: string, flavor: 'pg' | 'orm', batched: boolean, concurrency: number) {
  const pool = benchPool(url, concurrency + 4);
  const counts = { retries: 0, batches: 0, movements: 0 };
  const options: BankOptions = {
    onRetry: () => counts.retries++,
    onBatch: (size) => {
      counts.batches++;
      counts.movements += size;
    },
    batch: batched ? batchOptions : false,
  };
  const bank = flavor === 'orm' ? new OrmBank(pool, options) : createBank(pool, options);
  return { pool, bank, counts };
}

async function runFlavor(
  url: string,
  flavor: 'pg' | 'orm',
  batched: boolean,
  scenario: { accounts: number; hot: number | undefined },
  concurrency: number,
  postmasterPid: number | undefined,
): Promise<Row> {
  const { pool, bank, counts } = countedBank(url, flavor, batched, concurrency);
  const cpu = cpuMeter(postmasterPid);
  try {
    const options = {
      accounts: scenario.accounts,
      concurrency,
      durationMs: seconds * 1000,
      seed: 42,
      ...(scenario.hot ? { hot: scenario.hot } : {}),
    };
    const summary = await runWorkload(bank, options, {
      retries: () => counts.retries,
      batches: () => counts,
      onTransfersStart: () => cpu.start(),
      onTransfersEnd: () => cpu.end(),
    });
    if (!summary.invariant.ok || summary.errors)
      throw new Error(
        `workload ${flavor}: invariant ${JSON.stringify(summary.invariant)} errors ${summary.errors} ${summary.lastError}`,
      );
    const system = flavor === 'orm' ? 'roachbank orm' : batched ? 'roachbank pg, batched' : 'roachbank pg, single';
    return {
      system,
      scenario: '',
      concurrency,
      tps: summary.opsPerSec,
      p50Ms: summary.p50Ms,
      p99Ms: summary.p99Ms,
      retries: summary.retries,
      meanBatch: summary.meanBatchSize,
      ...cpu.perOp(summary.ops, true),
    };
  } finally {
    await pool.end();
  }
}

/**
 * `concurrency` workers running `operation` until the run's time is up, each on its own
 * seeded random stream, every operation timed: how many, how fast, and the CPU they took.
 */
async function timedWorkers(
  concurrency: number,
  postmasterPid: number | undefined,
  operation: (random: SeededRandom) => Promise<void>,
) {
  const latency = new LatencyRecorder();
  let ops = 0;
  const cpu = cpuMeter(postmasterPid);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  cpu.start();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const random = seededRandom(42 + worker);
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await operation(random);
        latency.record((performance.now() - t0) * 1000);
        ops++;
      }
    }),
  );
  cpu.end();
  const { p50Ms, p99Ms } = latency.total();
  return { tps: ops / ((performance.now() - started) / 1000), p50Ms, p99Ms, ...cpu.perOp(ops, true) };
}

/**
 * Payment flows on the bench accounts, `concurrency` workers, each flow timed whole:
 * `cards` a hold of a random amount then its post (each call through group commit
 * when `batched`), `splits` an atomic group of two transfers from one account.
 */
async function runFlows(
  url: string,
  kind: 'cards' | 'splits',
  batched: boolean,
  scenario: { accounts: number; hot: number | undefined },
  concurrency: number,
  postmasterPid: number | undefined,
): Promise<Row> {
  const { pool, bank, counts } = countedBank(url, 'pg', batched, concurrency);
  const span = scenario.hot ?? scenario.accounts;
  try {
    const timed = await timedWorkers(concurrency, postmasterPid, async (random) => {
      const pick = () => uuidOf(random.int(1, span));
      const from = pick();
      let to = pick();
      while (to === from) to = pick();
      const amount = BigInt(random.int(1, 100));
      if (kind === 'cards') {
        const { hold } = await bank.hold({ fromId: from, toId: to, amount, expiresInMs: 60_000 });
        await bank.postHold(hold.id);
        return;
      }
      let fee = pick();
      while (fee === from) fee = pick();
      const items = [
        { fromId: from, toId: to, amount },
        { fromId: from, toId: fee, amount: 1n },
      ];
      const failed = (await bank.transferMany(items, { atomic: true })).find((r) => !r.ok);
      if (failed && !failed.ok) throw failed.error;
    });
    return {
      system: `${kind === 'cards' ? 'card flow (hold, post)' : 'split (atomic group of 2)'}, ${batched ? 'batched' : 'single'}`,
      scenario: '',
      concurrency,
      retries: counts.retries,
      meanBatch: counts.batches > 0 ? Math.round((counts.movements / counts.batches) * 10) / 10 : null,
      ...timed,
    };
  } finally {
    await pool.end();
  }
}

/** The tutorial's approach, on its own table: read the balance, check it, two UPDATEs, in runTransaction. */
async function runTutorial(url: string, accounts: number, concurrency: number, postmasterPid: number | undefined): Promise<Row> {
  const pool = benchPool(url, concurrency + 4);
  await pool.query('DROP TABLE IF EXISTS hello_accounts');
  await pool.query('CREATE TABLE hello_accounts (id INT8 PRIMARY KEY, balance INT8)');
  await pool.query('INSERT INTO hello_accounts SELECT g, 1000000000 FROM generate_series(1, $1::INT8) AS g', [accounts]);
  let retries = 0;
  try {
    const timed = await timedWorkers(concurrency, postmasterPid, async (random) => {
      const from = random.int(1, accounts);
      let to = random.int(1, accounts - 1);
      if (to >= from) to++;
      await runTransaction(pool, (client) => transferFunds(client, from, to, BigInt(random.int(1, 100))), {
        maxAttempts: 100,
        onRetry: () => retries++,
      });
    });
    return { system: 'tutorial (read, check, 2 UPDATEs)', scenario: '', concurrency, retries, meanBatch: null, ...timed };
  } finally {
    await pool.end();
  }
}

const lease = process.env.DATABASE_URL ? undefined : await acquireEmbeddedServer();
const adminUrl = process.env.DATABASE_URL ?? lease!.url;
const admin = createPool(adminUrl, { max: 2 });
const serverVersion = (await admin.query('SELECT version() AS v')).rows[0].v.split(' on ')[0];
// The postmaster is the parent of any backend, if the server runs on this machine.
const backendPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const postmasterPid = existsSync(`/proc/${backendPid}/stat`)
  ? Number(readFileSync(`/proc/${backendPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
  : undefined;
const pgbench = findPgbench();
if (!pgbench)
  console.log(
    'pgbench not found (Debian: postgresql-15 installs it under /usr/lib/postgresql/15/bin): its rows are skipped, ratios are n/a',
  );

const rows: Row[] = [];
let tutorials: string | null = null;
try {
  for (const scenario of scenarios) {
    const { url, pool } = await freshDatabase(adminUrl, admin, 'roachbank_bench');
    await openAccounts(pool, scenario.accounts);
    for (const concurrency of concurrencies) {
      const add = (row: Row | string) => {
        if (typeof row === 'string') return console.log(`  ${scenario.name} c=${concurrency}: ${row}`);
        rows.push({ ...row, scenario: scenario.name });
        console.log(
          `  ${scenario.name} c=${concurrency} ${row.system}: ${row.tps.toFixed(0)} tps, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, retries ${row.retries}`,
        );
      };
      const slow = concurrency <= slowSystemsUpTo;
      if (pgbench && systems.has('pgbench')) add(await runPgbench(pgbench, url, scenario.accounts, concurrency, postmasterPid));
      if (systems.has('batched')) add(await runFlavor(url, 'pg', true, scenario, concurrency, postmasterPid));
      if (systems.has('single')) add(await runFlavor(url, 'pg', false, scenario, concurrency, postmasterPid));
      if (slow && systems.has('orm')) add(await runFlavor(url, 'orm', false, scenario, concurrency, postmasterPid));
      if (slow && systems.has('tutorial')) add(await runTutorial(url, scenario.accounts, concurrency, postmasterPid));
      for (const kind of ['cards', 'splits'] as const) {
        if (!systems.has(kind)) continue;
        for (const batched of [true, false]) add(await runFlows(url, kind, batched, scenario, concurrency, postmasterPid));
      }
    }
    await pool.end();
  }
  if (systems.has('python')) tutorials = await benchTutorials(adminUrl, Number(env.TUTORIAL_RUNS ?? 9));
} finally {
  await admin.query('DROP DATABASE IF EXISTS roachbank_bench WITH (FORCE)').catch(() => {});
  await admin.end();
  await lease?.release();
}

const ideal = (row: Row) =>
  rows.find((r) => r.system.startsWith('pgbench') && r.scenario === row.scenario && r.concurrency === row.concurrency);
const orDash = (value: number | null) => (value === null ? '–' : String(value));
const table = [
  '| system | scenario | c | tps | p50 ms | p99 ms | retries | mean batch | server µs/op | client µs/op | × pgbench |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => {
    const base = ideal(r);
    const ratio = base ? (r.tps / base.tps).toFixed(2) : 'n/a';
    return `| ${r.system} | ${r.scenario} | ${r.concurrency} | ${r.tps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.retries} | ${orDash(r.meanBatch)} | ${orDash(r.serverUsPerOp)} | ${orDash(r.clientUsPerOp)} | ${ratio} |`;
  }),
].join('\n');
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${serverVersion}${lease ? ' (embedded)' : ''}`;
const batching = `group commit ${batchOptions.maxSize ?? 'default'} × ${batchOptions.maxInFlight ?? 'default'} in flight`;
const tutorialTable = tutorials
  ? `\nThe tutorials side by side, launch to exit, ${env.TUTORIAL_RUNS ?? 9} interleaved runs each (bench/tutorials.ts):\n\n${tutorials}\n`
  : '';
const entry = `\n## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${machine}; ${seconds} s per run; pgbench ${pgbench ? 'prepared, autocommit, READ COMMITTED' : 'not found'}; ${batching}.\n\n${table}\n${tutorialTable}`;
console.log(entry);
if (env.BENCH_NO_RECORD === '1') process.exit(0);
const file = new URL('../BENCHMARKS.md', import.meta.url).pathname;
if (!existsSync(file)) {
  await appendFile(
    file,
    '# Benchmarks\n\nAppended by `npm run bench`: every run, dated, with the machine it ran on. Ratios are to pgbench running the same transfer statement on the same server in the same run.\n',
  );
}
await appendFile(file, entry);
