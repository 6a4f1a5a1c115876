import type pg from 'pg';
import type { Bank, BankOptions, Flavor } from './bank.js';

/**
 * The bank of a flavor chosen by name, loading only that flavor's code: `pg`
 * (the driver, as `createBank`) or `orm` (Drizzle ORM, as `roachbank/orm`'s
 * `OrmBank`, which needs the optional peer dependency drizzle-orm).
 *
 * @example
 * const bank = await loadBank(pool, parseFlavor(process.env.ROACHBANK_FLAVOR ?? 'pg'));
 */
export async function loadBank(pool: pg.Pool, flavor: Flavor = 'pg', options: BankOptions = {}): Promise<Bank> {
  if (flavor === 'orm') return new (await import('./orm-bank.js')).OrmBank(pool, options);
  return new (await import('./pg-bank.js')).PgBank(pool, options);
}
