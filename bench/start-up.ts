// `npm run bench:start`: how long roachbank's commands take from launch to exit,
// against a running server, beside `node -e 0` (the floor any Node command pays).
// The embedded PostgreSQL is held by this process, so each command joins it as a
// user's command joins a running `roachbank serve`. Runs are interleaved (one of
// each command per round) so drift hits every row alike; medians, not means.
// Then the two Python tutorials beside `example hello` and `example crud` (bench/tutorials.ts).
// Prints the tables and appends them, dated, to BENCHMARKS.md.
// Knobs: STARTUP_RUNS (default 15), BENCH_NO_RECORD=1 (print only).
import { appendFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';
import { interleavedSamples } from './interleaved-samples.js';
import { median } from './median.js';
import { timeCommand } from './time-command.js';
import { benchTutorials } from './tutorials.js';

const runs = Number(process.env.STARTUP_RUNS ?? 15);
const bin = new URL('../packages/roachbank-app/bin/roachbank.js', import.meta.url).pathname;

const lease = await acquireEmbeddedServer();
const pool = createPool(lease.url);
await ensureSchema(pool);
const bank = createBank(pool);
const from = (await bank.createAccount({ balance: 1_000_000n })).id;
const to = (await bank.createAccount()).id;
await pool.end();

const { DATABASE_URL: _unset, ...env } = process.env;
const commands = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'roachbank --help', args: [bin, '--help'] },
  { name: 'roachbank example hello', args: [bin, 'example', 'hello'] },
  { name: 'roachbank accounts show ID', args: [bin, 'accounts', 'show', from] },
  { name: 'roachbank transfer A B 1', args: [bin, 'transfer', from, to, '1'] },
];
const samples = await interleavedSamples(commands, runs, ({ args }) => timeCommand(process.execPath, args, env).ms);
// The Python tutorials beside roachbank's examples, on the same server.
const tutorials = await benchTutorials(lease.url, runs);
await lease.release();

const floor = median(samples.get('node -e 0')!);
const rows = commands.map(({ name }) => {
  const values = samples.get(name)!;
  const wall = median(values);
  const own = name === 'node -e 0' ? '' : `${Math.round(wall - floor)}`;
  return `| \`${name}\` | ${Math.round(wall)} | ${own} | ${Math.round(Math.min(...values))} | ${Math.round(Math.max(...values))} |`;
});
const table = [
  '| command | median wall ms | own cost ms (− `node -e 0`) | min | max |',
  '|---|---:|---:|---:|---:|',
  ...rows,
].join('\n');
console.log(table);
if (tutorials) console.log(`\n${tutorials}`);

if (process.env.BENCH_NO_RECORD !== '1') {
  const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
  await appendFile(
    new URL('../BENCHMARKS.md', import.meta.url).pathname,
    `\n## Start-up, ${stamp} UTC\n\n\`npm run bench:start\`: ${runs} interleaved runs of each command against a running embedded server (${machine}).\n\n${table}\n${tutorials ? `\nThe tutorials side by side, launch to exit, ${runs} interleaved runs each (bench/tutorials.ts):\n\n${tutorials}\n` : ''}`,
  );
}
