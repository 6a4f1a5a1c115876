import { Command, Option } from 'commander';
import { flavors } from '../bank/bank.js';
import { describeTarget, redactConnectionString } from '../config.js';
import { migrate, migrationStatus } from '../db/migrate.js';
import { runRead } from '../db/run-read.js';
import { statementIsolation } from '../db/statement-isolation.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import { type CrudLibrary, crudLibraries } from '../examples/crud-libraries.js';
import { addAccountCommands } from './account-commands.js';
import { batchOption, wholeNumber } from './arguments.js';
import { addMoneyCommands } from './money-commands.js';
import { reportUsageError } from './report-error.js';
import { withDatabase } from './with-database.js';
import { addWorkloadCommand } from './workload-command.js';

const examples = ['hello', 'crud', 'all'] as const;

/**
 * The `roachbank` command line: argument parsing and printing only; the work
 * is done by the library.
 *
 * @example
 * await buildProgram().parseAsync(['node', 'roachbank', 'db', 'status']);
 */
export function buildProgram(): Command {
  const program = new Command('roachbank')
    .description('Move money correctly on CockroachDB (or the embedded PostgreSQL when DATABASE_URL is unset).')
    .option('--json', 'print machine-readable JSON (errors go to stderr as {"error":{"code","message"}})', false)
    .addOption(
      new Option('--flavor <flavor>', 'the bank implementation: pg (driver) or orm (Drizzle)')
        .choices(flavors)
        .env('ROACHBANK_FLAVOR')
        .default('pg'),
    )
    // Before the subcommands are made, so they inherit both: usage errors exit 2, one line each.
    .exitOverride()
    .configureOutput({ outputError: (message) => reportUsageError(message) })
    .configureHelp({ sortSubcommands: true })
    .addHelpText(
      'after',
      `
Environment:
  DATABASE_URL       postgresql://user:password@host:26257/db?sslmode=verify-full&sslrootcert=ca.crt
                     (unset: an embedded PostgreSQL in .data/, started on demand)
  ROACHBANK_FLAVOR   the default of --flavor
  ROACHBANK_API_TOKEN bearer token that \`serve\` requires (needed to listen beyond loopback)
  ROACHBANK_DATA_DIR where the embedded PostgreSQL keeps its files
  ROACHBANK_DEBUG=1  print stack traces

Exit status: 0 ok, 2 bad input, 3 not found, 4 refused (funds, idempotency, not empty),
5 database unavailable or outcome unknown, 1 anything else.`,
    );

  addAccountCommands(program);
  addMoneyCommands(program);
  addWorkloadCommand(program);

  program
    .command('serve')
    .description('the JSON API (OpenAPI at /openapi.json, reference at /docs), /metrics and the web UI at /')
    .option('--host <host>', 'address to listen on (beyond loopback only with ROACHBANK_API_TOKEN set)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', wholeNumber('port', 0, 65535), 8080)
    .addOption(batchOption())
    .action(async (options: { host: string; port: number; batch: 'on' | 'off' }, command: Command) => {
      const { batch, ...listen } = options;
      const { serve } = await import('../http/serve.js'); // the HTTP server loads only for this command
      await serve({ ...listen, batch: batch === 'on', flavor: command.optsWithGlobals<{ flavor: 'pg' | 'orm' }>().flavor });
    });

  program
    .command('example')
    .description('run a seed demo from the CockroachDB tutorials')
    .addArgument(
      new Command()
        .createArgument(
          'name',
          'hello: the psycopg2 bank demo; crud: the SQLAlchemy CRUD demo (on Drizzle, or --orm); all: both in turn',
        )
        .choices(examples),
    )
    .addOption(new Option('--orm <library>', 'the data layer the crud demo runs on (default: drizzle)').choices(crudLibraries))
    .action(async (name: (typeof examples)[number], options: { orm?: CrudLibrary }) => {
      if (name === 'hello' && options.orm) {
        throw new RoachbankError(
          'INVALID_ARGUMENT',
          '--orm applies to the crud demo; hello writes its own SQL through the driver',
        );
      }
      await withDatabase(async (db) => {
        // Each demo loads its own code (crud brings its data layer) only when it runs.
        if (name === 'hello' || name === 'all') await (await import('../examples/hello.js')).runHelloExample(db.pool);
        if (name === 'crud' || name === 'all') {
          await (await import('../examples/crud.js')).runCrudExample(db.pool, { orm: options.orm ?? 'drizzle' });
        }
      });
    });

  const db = program.command('db').description('the database: schema and status');
  db.command('init')
    .description('create or upgrade the roachbank schema (safe to run again, and from many processes at once)')
    .action(async () => {
      const json = program.opts<{ json: boolean }>().json;
      await withDatabase(async ({ pool }) => {
        const applied = await migrate(pool);
        const states = await migrationStatus(pool);
        if (json) {
          console.log(JSON.stringify({ applied, migrations: states }));
          return;
        }
        for (const state of states.filter((s) => applied.includes(s.version))) {
          console.log(`applied migration ${label(state.version, state.name)}`);
        }
        if (applied.length === 0)
          console.log(`schema up to date (${states.length} migration${states.length === 1 ? '' : 's'} applied)`);
      });
    });
  db.command('status')
    .description('show the server, the connection and the schema version')
    .action(async () => {
      const json = program.opts<{ json: boolean }>().json;
      await withDatabase(async ({ pool, server, source, url }) => {
        const states = await migrationStatus(pool);
        const isolation = await runRead(pool, (client) => statementIsolation(client));
        const status = {
          server: server.kind,
          version: server.version,
          source,
          target: source === 'embedded' ? describeTarget(url) : redactConnectionString(url),
          statementIsolation: isolation,
          migrations: states,
        };
        if (json) {
          console.log(JSON.stringify(status));
          return;
        }
        const pending = states.filter((s) => s.state !== 'applied').length;
        console.log(`server      ${server.version.split(' on ')[0]} (${server.kind})`);
        console.log(`connection  ${status.target}${source === 'embedded' ? ' (embedded)' : ''}`);
        console.log(
          `isolation   transactions SERIALIZABLE unless they ask otherwise; single statements ${status.statementIsolation}`,
        );
        console.log(
          `schema      ${states.length - pending} of ${states.length} migrations applied${pending ? ' (run: roachbank db init)' : ''}`,
        );
        for (const state of states) {
          const when = state.appliedAt ? ` ${state.appliedAt.toISOString()}` : '';
          console.log(`  ${label(state.version, state.name).padEnd(28)} ${state.state}${when}`);
        }
      });
    });

  return program;
}

function label(version: number, name: string): string {
  return `${String(version).padStart(4, '0')}_${name}`;
}
