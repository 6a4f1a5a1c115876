import type pg from 'pg';
import type { CoreBankOptions } from './bank.js';
import { OrmStore } from './orm-store.js';
import { StoreBank, storeRetry } from './store-bank.js';

/**
 * The bank on Drizzle ORM: `StoreBank` over `OrmStore`, one read-check-write
 * transaction per operation. Same contract, same errors and the same `verify`
 * SQL as `PgBank`; group commit is the `pg` flavor's alone, so its options are
 * not read here.
 *
 * @example
 * const bank = new OrmBank(pool);
 * const account = await bank.createAccount({ balance: 500n });
 */
export class OrmBank extends StoreBank {
  constructor(pool: pg.Pool, options: CoreBankOptions = {}) {
    super(new OrmStore(pool, storeRetry(options)), options);
  }
}
