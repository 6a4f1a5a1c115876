// Schemathesis, an outside referee, against a live `roachbank serve`, once per
// bank flavor: every operation of the OpenAPI document, every check, generated
// and stateful (the document's links: open an account → deposit, transfer,
// read, close), a fixed seed and a bounded number of examples
// (tools/schemathesis/schemathesis.toml). Every response must match the
// document and none may be a 500; afterwards the bank's invariants must hold
// and money must have moved.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadBank } from '../packages/roachbank-app/src/flavor/load-bank.js';
import { pythonVenv } from '../tools/python-venv.js';
import { runCli } from './support/run-cli.js';
import { type ServeProcess, startServeProcess } from './support/serve-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const root = new URL('..', import.meta.url).pathname;
const token = randomBytes(16).toString('hex');

// Without Python the runs are skipped with a warning, except in CI, which must run them.
const noPython =
  (spawnSync(process.env.PYTHON ?? 'python3', ['--version']).error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
const skip = noPython && !process.env.CI ? 'no python3: Schemathesis (tools/schemathesis) was skipped' : false;

for (const flavor of ['pg', 'orm'] as const) {
  describe(`Schemathesis against roachbank serve --flavor ${flavor}`, { skip }, () => {
    let db: TestDatabase;
    let server: ServeProcess;
    let base: string;

    before(async () => {
      db = await createTestDatabase(`schemathesis_${flavor}`);
      server = await startServeProcess({ DATABASE_URL: db.url, ROACHBANK_API_TOKEN: token, ROACHBANK_LOG_LEVEL: 'warn' }, [
        '--flavor',
        flavor,
      ]);
      base = server.base;
      // Two funded accounts first, so that the oldest-first page the stateful phase lists
      // starts with accounts that can pay each other: its transfer links then move money
      // whatever else the generated requests did (fuzzed accounts are mostly empty).
      // Opened through the bank on the server's database, after the server made its schema.
      const bank = await loadBank(db.pool, flavor);
      for (let i = 0; i < 2; i++) await bank.createAccount({ balance: 1_000_000n });
    });

    after(async () => {
      await server?.stop();
      await db.drop();
    });

    test('no response breaks the OpenAPI document, and none is a 500', { timeout: 600_000 }, async () => {
      const bin = pythonVenv('tools/schemathesis/requirements.txt');
      const run = spawnSync(
        join(bin, 'st'),
        ['--config-file', join(root, 'tools/schemathesis/schemathesis.toml'), 'run', `${base}/openapi.json`, '--no-color'],
        {
          env: { ...process.env, ROACHBANK_API_URL: base, ROACHBANK_API_TOKEN: token, NO_COLOR: '1' },
          encoding: 'utf8',
          timeout: 540_000,
        },
      );
      const output = `${run.stdout}${run.stderr}`;
      console.log(output.trim().split('\n').slice(-24).join('\n'));
      const failures = server
        .stderr()
        .split('\n')
        .filter((line) => /request failed/.test(line));
      assert.equal(run.status, 0, `${output}\nthe server's errors:\n${failures.slice(0, 5).join('\n')}`);
      // Exit 0 is no failure; every generated case passed every check.
      assert.match(output, /(\d+) generated, \1 passed/);
      // The run reached every operation and every phase, and followed the links.
      assert.match(output, /Operations:\s+22 selected \/ 22 total/);
      for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful']) assert.match(output, new RegExp(`✅ ${phase}`));
      const links = Number(/API Links:\s+(\d+) covered/.exec(output)?.[1] ?? 0);
      assert.ok(links >= 15, `the stateful phase covered ${links} links`);
      assert.doesNotMatch(server.stderr(), /request failed/, 'the server logged an internal error');
    });

    test('afterwards money has moved through every kind of movement and the invariants hold', async () => {
      const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
      for (const kind of ['transfer', 'deposit', 'withdrawal', 'hold', 'post', 'void', 'reversal']) {
        const created = Number(
          new RegExp(`roachbank_transfers_total\\{kind="${kind}",outcome="created"\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
        );
        const counters = metrics.split('\n').filter((line) => line.startsWith('roachbank_transfers_total'));
        assert.ok(created > 0, `no ${kind} was created:\n${counters.join('\n')}`);
      }
      const verify = await runCli(['verify', '--json'], { DATABASE_URL: db.url });
      assert.equal(verify.code, 0, verify.stderr);
      const report = JSON.parse(verify.stdout) as { ok: boolean; transfers: number };
      assert.equal(report.ok, true);
      assert.ok(report.transfers > 0);
    });
  });
}
