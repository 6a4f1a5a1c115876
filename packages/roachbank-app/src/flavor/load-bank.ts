import type pg from 'pg';
import { type Bank, type BankOptions, createBank, type Flavor } from 'roachbank';

/**
 * The bank of the flavor a surface was asked for (`--flavor`, `ROACHBANK_FLAVOR`,
 * `serve`'s option), loading only that flavor's code: `pg` is the library's
 * `createBank`; `orm` is `roachbank/orm`'s `OrmBank`, which brings Drizzle, so a
 * command on the `pg` flavor never loads it. It lives here, not in the library,
 * because the library's main entry must not name `roachbank/orm` even in a
 * dynamic import: a bundler follows that too, and would need drizzle-orm in a
 * project that never uses it.
 *
 * @example
 * const bank = await loadBank(pool, parseFlavor(process.env.ROACHBANK_FLAVOR ?? 'pg'));
 */
export async function loadBank(pool: pg.Pool, flavor: Flavor = 'pg', options: BankOptions = {}): Promise<Bank> {
  if (flavor === 'orm') return new (await import('roachbank/orm')).OrmBank(pool, options);
  return createBank(pool, options);
}
