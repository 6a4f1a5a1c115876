import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('package');
});
after(() => db.drop());

describe('the roachbank package from plain JavaScript', () => {
  test("a .mjs importing runTransaction from 'roachbank' keeps a counter exact under 8 workers, retries observed", async () => {
    const { stdout } = await run(process.execPath, ['test/fixtures/counter.mjs'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url },
    });
    const { n, retries } = JSON.parse(stdout);
    assert.equal(n, '200');
    assert.ok(retries > 0, 'serializable read-modify-write under contention must have retried');
  });

  test('npx roachbank --help works in the project', async () => {
    const { stdout } = await run('npx', ['--no-install', 'roachbank', '--help'], { cwd: root });
    assert.match(stdout, /^Usage: roachbank/);
  });
});
