import type pg from 'pg';
import type { BankOptions } from './bank.js';
import { PgStore } from './pg-store.js';
import { StoreBank, storeRetry } from './store-bank.js';

/**
 * The bank on the pg driver: `StoreBank` over `PgStore`. Concurrent `transfer`,
 * `deposit` and `withdraw` calls share one statement and one commit (group commit,
 * DESIGN §7), and `transferMany` cuts its list into batches that keep input order;
 * `batch: false` sends each movement as its own statement.
 *
 * @example
 * const bank = new PgBank(pool);
 * const { transfer } = await bank.transfer({ fromId, toId, amount: 100n });
 */
export class PgBank extends StoreBank {
  constructor(pool: pg.Pool, options: BankOptions = {}) {
    super(new PgStore(pool, storeRetry(options), options), options);
  }
}
