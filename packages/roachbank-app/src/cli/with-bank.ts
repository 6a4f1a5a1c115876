import type { Bank, BankOptions, Flavor } from 'roachbank';
import { ensureSchema } from 'roachbank';
import { loadBank } from '../flavor/load-bank.js';
import { withDatabase } from './with-database.js';

/** Runs a command against the bank of the chosen flavor, on a migrated schema. */
export function withBank<T>(
  flavor: Flavor,
  action: (bank: Bank) => Promise<T>,
  options: { bank?: BankOptions; maxConnections?: number } = {},
): Promise<T> {
  return withDatabase(
    async ({ pool }) => {
      await ensureSchema(pool);
      return action(await loadBank(pool, flavor, options.bank));
    },
    options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections },
  );
}
