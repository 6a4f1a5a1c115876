import type pg from 'pg';
import type { Account, Bank, Page, PageRequest, Transfer, TransferOutcome, TransferRequest, VerifyReport } from './bank.js';
import { movement, type Movement } from './movement.js';
import { parseAmount } from './money.js';
import { verifyInvariants } from './verify-invariants.js';

/**
 * What both flavors share: every money movement is one checked `Movement`
 * (a deposit has no source, a withdrawal no destination) handed to the
 * flavor's `move`, and `verify` is the one SQL of `verifyInvariants`.
 */
export abstract class JournalBank implements Bank {
  protected readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async deposit(accountId: string, amount: bigint, options: { id?: string } = {}): Promise<TransferOutcome> {
    return this.move(movement({ id: options.id, fromId: null, toId: accountId, amount }));
  }

  async withdraw(accountId: string, amount: bigint, options: { id?: string } = {}): Promise<TransferOutcome> {
    return this.move(movement({ id: options.id, fromId: accountId, toId: null, amount }));
  }

  async transfer(request: TransferRequest): Promise<TransferOutcome> {
    return this.move(movement(request));
  }

  verify(): Promise<VerifyReport> {
    return verifyInvariants(this.pool);
  }

  /** An opening balance: 0 when absent, else a valid amount. */
  protected openingBalance(options: { balance?: bigint }): bigint {
    return options.balance === undefined || options.balance === 0n ? 0n : parseAmount(options.balance, 'opening balance');
  }

  /** Applies a checked movement exactly once per id (or answers it from the journal). */
  protected abstract move(request: Movement): Promise<TransferOutcome>;

  abstract createAccount(options?: { balance?: bigint }): Promise<Account>;
  abstract getAccount(id: string): Promise<Account>;
  abstract listAccounts(page?: PageRequest): Promise<Page<Account>>;
  abstract closeAccount(id: string): Promise<Account>;
  abstract getTransfer(id: string): Promise<Transfer>;
  abstract history(accountId: string, page?: PageRequest): Promise<Page<Transfer>>;
}
