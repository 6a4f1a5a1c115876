import { Command, Option } from 'commander';
import { RoachbankError } from 'roachbank';
import { type CrudLibrary, crudLibraries } from '../examples/crud-libraries.js';
import { withDatabase } from './with-database.js';

const examples = ['hello', 'crud', 'all'] as const;

/** `roachbank example`: the seed demos from the CockroachDB tutorials. */
export function addExampleCommand(program: Command): void {
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
}
