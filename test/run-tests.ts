// The test runner: one embedded PostgreSQL for the whole run (fresh data
// directory, TLS on with the fixture certificate, listening on 127.0.0.1 and
// 127.0.0.2), every test/*.test.ts through node:test, one file at a time, and
// a failure when no test ran at all. Suites make their own databases on it.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireEmbeddedServer } from '../src/db/embedded-server.js';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = only.length
  ? only
  : (await readdir(join(root, 'test')))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => join('test', f));

const dataDir = await mkdtemp(join(tmpdir(), 'roachbank-test-'));
const started = Date.now();
const server = await acquireEmbeddedServer({
  dataDir,
  tls: { certFile: join(root, 'test/fixtures/tls/server.crt'), keyFile: join(root, 'test/fixtures/tls/server.key') },
  settings: { listen_addresses: "'127.0.0.1,127.0.0.2'", max_connections: '300' },
});
console.log(`test server: PostgreSQL on 127.0.0.1:${server.port}, ready in ${Date.now() - started} ms (${dataDir})`);

let output = '';
const exitCode = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
    { cwd: root, env: { ...process.env, ROACHBANK_TEST_URL: server.url }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  child.on('close', (code) => resolve(code ?? 1));
});

await server.release();
await rm(dataDir, { recursive: true, force: true });

const ran = Number(/ℹ tests (\d+)/.exec(output)?.[1] ?? 0);
if (ran === 0) {
  console.error('no test ran: failing the run');
  process.exit(1);
}
process.exit(exitCode);
