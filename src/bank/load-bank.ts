import type pg from 'pg';
import type { Bank, BankOptions, Flavor } from './bank.js';

/**
 * `createBank`, loading only the chosen flavor's code: the `orm` flavor brings
 * Drizzle, which a command on the `pg` flavor should not pay for at start-up.
 *
 * @example
 * const bank = await loadBank(pool, 'pg');
 */
export async function loadBank(pool: pg.Pool, flavor: Flavor = 'pg', options: BankOptions = {}): Promise<Bank> {
  if (flavor === 'orm') return new (await import('./orm-bank.js')).OrmBank(pool, options);
  return new (await import('./pg-bank.js')).PgBank(pool, options);
}
