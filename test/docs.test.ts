import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { errorCatalogue } from '../src/errors/error-catalogue.js';
import { errorCodes } from '../src/errors/roachbank-error.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const root = new URL('..', import.meta.url).pathname;
const readme = await readFile(`${root}README.md`, 'utf8');

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('docs');
});
after(() => db.drop());

describe('the error catalogue', () => {
  test('every code has a CLI exit status, an HTTP status and a row in the README', () => {
    assert.deepEqual(Object.keys(errorCatalogue).sort(), [...errorCodes].sort());
    for (const code of errorCodes) {
      const { exitCode, httpStatus } = errorCatalogue[code];
      assert.ok(httpStatus >= 400 && httpStatus < 600, code);
      assert.ok(exitCode === null ? code === 'UNAUTHORIZED' : exitCode >= 2 && exitCode <= 5, code);
      const row = new RegExp(`^\\| \`${code}\` \\| [^|]+ \\| ${exitCode ?? '–'} \\| ${httpStatus} \\|$`, 'm');
      assert.match(readme, row, `README error table row for ${code}`);
    }
  });
});

describe('the README', () => {
  /** Runs the ```js block under a README heading as a plain .mjs user of the package; returns its stdout. */
  async function runReadmeExample(heading: string): Promise<string> {
    const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const example = new RegExp(`## ${escaped}\\n\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
    assert.ok(example, `the example under "${heading}" is in the README`);
    // Inside the package, so that `import ... from 'roachbank'` resolves to this package.
    const dir = `${root}.data/readme-example`;
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/example.mjs`, example);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [`${dir}/example.mjs`], {
        env: { ...process.env, DATABASE_URL: db.url },
      });
      return stdout;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('its runTransaction example runs as written', async () => {
    assert.equal(await runReadmeExample('Library: `runTransaction`'), 'moved 100\n');
    const { rows } = await db.pool.query('SELECT balance FROM wallets ORDER BY id');
    assert.deepEqual(
      rows.map((r) => r.balance),
      ['900', '350'],
    );
  });

  test('its bank example runs as written', async () => {
    assert.equal(await runReadmeExample('The bank'), 'true 250n true\n');
  });

  test('its transferMany example runs as written', async () => {
    assert.equal(await runReadmeExample('`transferMany`'), 'ok ok INSUFFICIENT_FUNDS\n');
  });

  test('its runOrmTransaction example runs as written', async () => {
    assert.equal(await runReadmeExample('Library: `runOrmTransaction` (Drizzle ORM)'), 'balance now 250\n');
  });

  for (const layer of ['Kysely', 'Knex', 'TypeORM', 'Sequelize']) {
    test(`its ${layer} adapter example runs as written`, async () => {
      assert.equal(await runReadmeExample(layer), 'balance now 250\n');
    });
  }
});
