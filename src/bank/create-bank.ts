import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { type Bank, type BankOptions, type Flavor, flavors } from './bank.js';
import { OrmBank } from './orm-bank.js';
import { PgBank } from './pg-bank.js';

/**
 * The bank of one flavor on a pool: `pg` (the driver, one statement per money
 * movement) or `orm` (Drizzle ORM). Assumes the schema is migrated (`ensureSchema`).
 *
 * @example
 * const bank = createBank(pool, parseFlavor(process.env.ROACHBANK_FLAVOR ?? 'pg'));
 */
export function createBank(pool: pg.Pool, flavor: Flavor = 'pg', options: BankOptions = {}): Bank {
  return flavor === 'orm' ? new OrmBank(pool, options) : new PgBank(pool, options);
}

/** A flavor name, checked: INVALID_ARGUMENT for anything but pg and orm. */
export function parseFlavor(value: string): Flavor {
  if (!(flavors as readonly string[]).includes(value)) {
    throw new RoachbankError('INVALID_ARGUMENT', `flavor must be one of ${flavors.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as Flavor;
}
