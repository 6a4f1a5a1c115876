import type { Bank, BankOptions, Flavor } from '../bank/bank.js';
import { loadBank } from '../bank/load-bank.js';
import { withDatabase } from './with-database.js';

/**
 * Runs a command against the bank of the chosen flavor, on a migrated schema. The
 * action also gets the connection string, for naming the database in a message.
 */
export function withBank<T>(
  flavor: Flavor,
  action: (bank: Bank, url: string) => Promise<T>,
  options: { bank?: BankOptions; maxConnections?: number } = {},
): Promise<T> {
  return withDatabase(
    async ({ pool, url }) => {
      const { ensureSchema } = await import('../db/migrate.js');
      await ensureSchema(pool);
      return action(await loadBank(pool, flavor, options.bank), url);
    },
    options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections },
  );
}
