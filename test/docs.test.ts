import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { errorCatalogue } from '../packages/roachbank/src/errors/error-catalogue.js';
import { errorCodes } from '../packages/roachbank/src/errors/roachbank-error.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const root = new URL('..', import.meta.url).pathname;
const readme = await readFile(`${root}README.md`, 'utf8');

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('docs');
});
after(() => db.drop());

describe('the error catalogue', () => {
  test('every code has a CLI exit status, an HTTP status and a row in the README, and every row a code', () => {
    assert.deepEqual(Object.keys(errorCatalogue).sort(), [...errorCodes].sort());
    const table = readme.slice(readme.indexOf('## Error codes'), readme.indexOf('## Fault injection'));
    const rows = [...table.matchAll(/^\| `([A-Z_]+)` \| [^|]+ \| ([–\d]+) \| (\d+) \| (yes|no) \|$/gm)];
    assert.deepEqual(rows.map((row) => row[1]).sort(), [...errorCodes].sort(), 'the README table names exactly the catalogue');
    for (const [, code, exit, http, definite] of rows) {
      const entry = errorCatalogue[code as (typeof errorCodes)[number]];
      assert.ok(entry.httpStatus >= 400 && entry.httpStatus < 600, code);
      assert.ok(entry.exitCode === null || (entry.exitCode >= 1 && entry.exitCode <= 5), code);
      assert.equal(exit, entry.exitCode === null ? '–' : String(entry.exitCode), `${code}: CLI exit`);
      assert.equal(Number(http), entry.httpStatus, `${code}: HTTP status`);
      assert.equal(definite === 'yes', entry.provesNothingHappened, `${code}: definite`);
    }
  });
});

describe('the README', () => {
  /**
   * Runs the code block under a README heading as a user of the package would:
   * ```js as a plain .mjs file; ```ts type-checked by tsc (strict), then run,
   * with `./generated/prisma/client.js` being the client Prisma generated here.
   * Returns its stdout.
   */
  async function runReadmeExample(heading: string, lang: 'js' | 'ts' = 'js'): Promise<string> {
    const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // The first block under the heading, before the next heading.
    const example = new RegExp(`## ${escaped}\\n(?:(?!\\n#)[\\s\\S])*?\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
    assert.ok(example, `the example under "${heading}" is in the README`);
    // Inside the package, so that `import ... from 'roachbank'` resolves to this package.
    const dir = `${root}.data/readme-example`;
    await mkdir(`${dir}/generated`, { recursive: true });
    const file = `${dir}/example.${lang === 'js' ? 'mjs' : 'mts'}`;
    await writeFile(file, example);
    try {
      const run = promisify(execFile);
      if (lang === 'ts') {
        await symlink(`${root}packages/roachbank-app/src/examples/prisma-client`, `${dir}/generated/prisma`);
        const tsc = `${root}node_modules/typescript/bin/tsc`;
        const options = [
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--target',
          'es2022',
          '--module',
          'nodenext',
          '--types',
          'node',
        ];
        await run(process.execPath, [tsc, ...options, file]).catch((error: { stdout: string }) => {
          assert.fail(`the README's ${heading} example does not type-check:\n${error.stdout}`);
        });
      }
      const { stdout } = await run(process.execPath, [...(lang === 'ts' ? ['--import', 'tsx'] : []), file], {
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

  test('its holds, atomic groups and reversals example runs as written', async () => {
    assert.equal(
      await runReadmeExample('Holds, atomic groups and reversals'),
      '80 20 | ok ok | INSUFFICIENT_FUNDS GROUP_FAILED | 50 10 true\n',
    );
  });

  test('its currencies and credit limits example runs as written', async () => {
    assert.equal(
      await runReadmeExample('Currencies and credit limits'),
      'CURRENCY_MISMATCH ok ok -5000 INSUFFICIENT_FUNDS CREDIT_LIMIT_IN_USE true EUR 50000, USD 10000\n',
    );
  });

  test('its references and metadata example runs as written', async () => {
    assert.equal(
      await runReadmeExample('References and metadata'),
      '1200, 200 back {"reason":"one item missing"} IDEMPOTENCY_CONFLICT true\n',
    );
  });

  test('its balance at a moment and statements example runs as written', async () => {
    assert.equal(
      await runReadmeExample('Balance at a moment and statements'),
      '7500 at noon; #1 10000 → 10000, #2 -2500 → 7500 | opens 7500, closes 6500 after 1 movement\n',
    );
  });

  test('its runOrmTransaction example runs as written', async () => {
    assert.equal(await runReadmeExample('Library: `runOrmTransaction` (Drizzle ORM)'), 'balance now 250\n');
  });

  for (const layer of ['Kysely', 'Knex', 'TypeORM', 'Sequelize']) {
    test(`its ${layer} adapter example runs as written`, async () => {
      assert.equal(await runReadmeExample(layer), 'balance now 250\n');
    });
  }

  test('its Prisma adapter example type-checks against the generated client and runs as written', async () => {
    assert.equal(await runReadmeExample('Prisma', 'ts'), 'balance now 250\n');
  });
});
