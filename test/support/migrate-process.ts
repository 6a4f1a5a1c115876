// One process of the migration races: runs `migrate` on the database at argv[2]
// with the migration files of argv[3] and a lease of argv[4] ms, and prints the
// versions it applied as one JSON line. The tests kill some of them mid-way.
// Run as: node --import tsx test/support/migrate-process.ts <url> <dir> <leaseMs>
import { createPool } from '../../packages/roachbank/src/db/create-pool.js';
import { migrate } from '../../packages/roachbank/src/db/migrate.js';

const [url, dir, leaseMs] = process.argv.slice(2);
if (!url || !dir || !leaseMs) throw new Error('usage: migrate-process.ts <url> <dir> <leaseMs>');
const pool = createPool(url, { max: 2 });
try {
  console.log(JSON.stringify({ applied: await migrate(pool, { dir, leaseMs: Number(leaseMs) }) }));
} finally {
  await pool.end();
}
