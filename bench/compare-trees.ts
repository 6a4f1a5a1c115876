// A/B of `npm run bench` between another checkout and this one, on one embedded server,
// in alternating rounds so that drift hits both alike. Prints each round's rows.
//   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   COMPARE_WITH=/tmp/before COMPARE_ROUNDS=2 BENCH_SECONDS=10 BENCH_SCENARIOS=hot \
//     BENCH_CONCURRENCY=1,32 BENCH_SYSTEMS=pgbench,batched,single node --import tsx bench/compare-trees.ts
import { execFileSync } from 'node:child_process';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';

const before = process.env.COMPARE_WITH;
if (!before) throw new Error('COMPARE_WITH must name the other checkout');
const trees = [
  { name: 'before', dir: before },
  { name: 'after', dir: new URL('..', import.meta.url).pathname },
];
const rounds = Number(process.env.COMPARE_ROUNDS ?? 2);
const lease = await acquireEmbeddedServer();
try {
  for (let round = 0; round < rounds; round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/run-bench.ts'], {
        cwd: tree.dir,
        env: { ...process.env, DATABASE_URL: lease.url, BENCH_NO_RECORD: '1' },
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      const rows = out.split('\n').filter((line) => /^\| (roachbank|pgbench|card|split)/.test(line));
      console.log(`## ${tree.name}, round ${round + 1}\n${rows.join('\n')}`);
    }
  }
} finally {
  await lease.release();
}
