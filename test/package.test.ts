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

  test('each data-layer adapter is its own entry: it loads its library alone, and the main entry loads none', async () => {
    const loaded = async (specifier: string): Promise<string[]> =>
      JSON.parse((await run(process.execPath, ['test/fixtures/loaded-packages.mjs', specifier], { cwd: root })).stdout);
    const layers = ['drizzle-orm', 'kysely', 'knex', 'typeorm', 'sequelize', '@prisma/client', '@prisma/adapter-pg'];
    const main = await loaded('roachbank');
    assert.deepEqual(
      main.filter((name) => layers.includes(name)),
      [],
    );
    for (const [entry, library] of [
      ['orm', 'drizzle-orm'],
      ['kysely', 'kysely'],
      ['knex', undefined], // type-only: the adapter drives the Knex instance it is given
      ['typeorm', undefined],
      ['sequelize', undefined],
      ['prisma', undefined],
    ] as const) {
      const others = (await loaded(`roachbank/${entry}`)).filter((name) => layers.includes(name) && name !== library);
      assert.deepEqual(others, [], `roachbank/${entry} loads no other data layer`);
    }
  });

  test('npx roachbank --help works in the project', async () => {
    const { stdout } = await run('npx', ['--no-install', 'roachbank', '--help'], { cwd: root });
    assert.match(stdout, /^Usage: roachbank/);
  });
});
