import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { type Bank, type BankOptions, type Flavor, flavors } from './bank.js';
import { PgBank } from './pg-bank.js';

/**
 * The bank on a pool, on the driver: one statement per money movement, group
 * commit on by default. Assumes the schema is migrated (`ensureSchema`). The
 * Drizzle ORM flavor is `new OrmBank(pool)` from `roachbank/orm`.
 *
 * @example
 * const bank = createBank(pool);
 */
export function createBank(pool: pg.Pool, options: BankOptions = {}): Bank {
  return new PgBank(pool, options);
}

/** A flavor name, checked: INVALID_ARGUMENT for anything but pg and orm. */
export function parseFlavor(value: string): Flavor {
  if (!(flavors as readonly string[]).includes(value)) {
    throw new RoachbankError('INVALID_ARGUMENT', `flavor must be one of ${flavors.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as Flavor;
}
