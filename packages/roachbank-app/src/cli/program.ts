import { Command, Option } from 'commander';
import { flavors } from 'roachbank';
import { addAccountCommands } from './account-commands.js';
import { addDbCommands } from './db-commands.js';
import { addExampleCommand } from './example-command.js';
import { addHoldCommands } from './hold-commands.js';
import { addMoneyCommands } from './money-commands.js';
import { reportUsageError } from './report-error.js';
import { addServeCommand } from './serve-command.js';
import { addStatementCommands } from './statement-commands.js';
import { addWorkloadCommand } from './workload-command.js';

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

Exit status: 0 ok, 2 bad input, 3 not found, 4 refused (funds, idempotency, not empty, holds, reversals, groups),
5 database unavailable or outcome unknown, 1 anything else.`,
    );

  addAccountCommands(program);
  addMoneyCommands(program);
  addStatementCommands(program);
  addHoldCommands(program);
  addWorkloadCommand(program);

  addServeCommand(program);
  addExampleCommand(program);
  addDbCommands(program);

  return program;
}
