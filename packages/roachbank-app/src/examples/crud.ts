// Seed demo 2, the SQLAlchemy tutorial's CRUD demo, in the data layer the user
// picks: the story (crud-story.ts) is told once; each library's queries sit in
// crud-<library>.ts, loaded only when picked, since every library but Drizzle is
// an optional peer dependency.
import type pg from 'pg';
import { RoachbankError } from 'roachbank';
import { type CrudLibrary, crudLibraries } from './crud-libraries.js';
import { type CrudLayer, createAccountsTable, runCrudStory } from './crud-story.js';

export interface CrudExampleOptions {
  /** The data layer. Default `drizzle`. */
  readonly orm?: CrudLibrary;
  /** Where each line goes. Default `console.log`. */
  readonly print?: (line: string) => void;
  /** The source of the random ids' picks and balances. Default `Math.random`. */
  readonly random?: () => number;
}

/** What each layer's file imports from npm, to name the one that is missing. */
const packagesOf: Record<CrudLibrary, readonly string[]> = {
  drizzle: ['drizzle-orm'],
  kysely: ['kysely'],
  knex: ['knex'],
  typeorm: ['typeorm'],
  sequelize: ['sequelize'],
  prisma: ['@prisma/client', '@prisma/adapter-pg'],
};

const loaders: Record<CrudLibrary, () => Promise<{ openCrudLayer(pool: pg.Pool): Promise<CrudLayer> }>> = {
  drizzle: () => import('./crud-drizzle.js'),
  kysely: () => import('./crud-kysely.js'),
  knex: () => import('./crud-knex.js'),
  typeorm: () => import('./crud-typeorm.js'),
  sequelize: () => import('./crud-sequelize.js'),
  prisma: () => import('./crud-prisma.js'),
};

/**
 * Runs the CRUD demo on `pool` in the chosen data layer, printing exactly what
 * the tutorial prints. A layer whose library is not installed fails with
 * INVALID_ARGUMENT naming the package to install, before anything is written.
 *
 * @example
 * await runCrudExample(pool, { orm: 'kysely' }); // Creating new accounts... / Created new account with id ... / ...
 */
export async function runCrudExample(pool: pg.Pool, options: CrudExampleOptions = {}): Promise<void> {
  const orm = options.orm ?? 'drizzle';
  if (!crudLibraries.includes(orm)) {
    throw new RoachbankError('INVALID_ARGUMENT', `unknown data layer "${orm}" (use one of ${crudLibraries.join(', ')})`);
  }
  const { openCrudLayer } = await loadLayer(orm, loaders[orm]);
  await pool.query(createAccountsTable);
  const layer = await openCrudLayer(pool);
  try {
    await runCrudStory(layer, options.print ?? console.log, options.random ?? Math.random);
  } finally {
    await layer.close();
  }
}

/**
 * Loads a layer's file, turning "cannot find package" for one of its libraries
 * into an error that says what to install.
 */
export async function loadLayer<M>(
  orm: CrudLibrary,
  load: () => Promise<M>,
  packages: readonly string[] = packagesOf[orm],
): Promise<M> {
  try {
    return await load();
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    const missing =
      (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /Cannot find package '([^']+)'/.exec(message)?.[1];
    if (!missing || !packages.includes(missing)) throw error;
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `the crud example on ${orm} needs ${missing}, an optional peer dependency of roachbank-app that is not installed: npm install ${packages.join(' ')}`,
      { cause: error },
    );
  }
}
