import { RoachbankError } from '../errors/roachbank-error.js';
import type { Account, Bank, Page, PageRequest } from './bank.js';

/** What a surface (HTTP, CLI) asks of the account list: at most one way of choosing, and a page. */
export interface AccountsAsked {
  readonly order?: 'oldest' | 'newest' | undefined;
  readonly reference?: string | undefined;
  readonly idPrefix?: string | undefined;
  readonly page: PageRequest;
}

/**
 * The page of accounts a surface asks for: by reference, by the start of their id, or
 * the whole list in an order (oldest first when none is given). Two ways at once are
 * INVALID_ARGUMENT, named, so every surface refuses them alike.
 *
 * @example
 * await askedAccounts(bank, { idPrefix: '6f9619ff', page: { limit: 10 } });
 */
export function askedAccounts(bank: Bank, { order, reference, idPrefix, page }: AccountsAsked): Promise<Page<Account>> {
  const named = Object.entries({ order, reference, idPrefix }).filter(([, value]) => value !== undefined);
  if (named.length > 1) {
    throw new RoachbankError(
      'INVALID_ARGUMENT',
      `give one of order, reference and idPrefix, not ${named.map(([k]) => k).join(' and ')}`,
    );
  }
  if (reference !== undefined) return bank.findAccounts({ reference, page });
  if (idPrefix !== undefined) return bank.findAccounts({ idPrefix, page });
  return bank.listAccounts({ ...page, ...(order ? { order } : {}) });
}
