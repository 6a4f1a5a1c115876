import type pg from 'pg';
import { waitBounds } from '../db/wait-bounds.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import { type RunTransactionOptions, runSingleStatement } from '../txn/run-transaction.js';
import {
  type Account,
  type AccountOutcome,
  type Bank,
  type BankOptions,
  type CreateAccountOptions,
  type MovementOptions,
  type MovementRequest,
  type MovementResult,
  maxTransferManyItems,
  type Page,
  type PageRequest,
  type Transfer,
  type TransferOutcome,
  type TransferRequest,
  type VerifyOptions,
  type VerifyReport,
} from './bank.js';
import { accountNotFound } from './bank-errors.js';
import { idOrNew, openingIdOf, parseId } from './ids.js';
import { parseAmount } from './money.js';
import { type Movement, movement } from './movement.js';
import { eachReadable } from './movement-items.js';
import { isDefiniteAnswer, resolvingAmbiguity } from './resolve-ambiguity.js';
import { verifyInvariants } from './verify-invariants.js';

/** A checked request to open an account: its id, its opening balance and the id of the opening deposit. */
export interface NewAccount {
  readonly id: string;
  readonly balance: bigint;
  readonly openingId: string;
}

/**
 * What both flavors share: every money movement is one checked `Movement`
 * (a deposit has no source, a withdrawal no destination) handed to the
 * flavor's `move`, and `verify` is the one SQL of `verifyInvariants`.
 */
export abstract class JournalBank implements Bank {
  protected readonly pool: pg.Pool;
  /** Passed to every retry-core call, so `onRetry` hears every retry and the budget holds. */
  protected readonly retry: RunTransactionOptions;
  /** `retry` for statements that only read: a lost connection is retried, never ambiguous. */
  protected readonly read: RunTransactionOptions;
  readonly #onAmbiguous: BankOptions['onAmbiguous'];

  constructor(pool: pg.Pool, options: BankOptions = {}) {
    this.pool = pool;
    this.retry = {
      retryBudgetMs: options.retryBudgetMs ?? waitBounds.retryBudgetMs,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    };
    this.read = { ...this.retry, readOnly: true };
    this.#onAmbiguous = options.onAmbiguous;
  }

  async createAccount(options: CreateAccountOptions = {}): Promise<Account> {
    return (await this.openAccount(options)).account;
  }

  async openAccount(options: CreateAccountOptions = {}): Promise<AccountOutcome> {
    const balance =
      options.balance === undefined || options.balance === 0n ? 0n : parseAmount(options.balance, 'opening balance');
    const id = idOrNew(options.id, 'account id');
    const openingId = openingIdOf(id);
    const created = await this.insertAccount({ id, balance, openingId });
    return created
      ? { account: created, replayed: false }
      : { account: await this.#existingAccount(id, balance, openingId), replayed: true };
  }

  async deposit(accountId: string, amount: bigint, options: { id?: string } & MovementOptions = {}): Promise<TransferOutcome> {
    return this.move(movement({ id: options.id, fromId: null, toId: accountId, amount }), options.signal);
  }

  async withdraw(accountId: string, amount: bigint, options: { id?: string } & MovementOptions = {}): Promise<TransferOutcome> {
    return this.move(movement({ id: options.id, fromId: accountId, toId: null, amount }), options.signal);
  }

  async transfer(request: TransferRequest, options: MovementOptions = {}): Promise<TransferOutcome> {
    return this.move(movement(request), options.signal);
  }

  async transferMany(items: readonly MovementRequest[], options: MovementOptions = {}): Promise<MovementResult[]> {
    if (!Array.isArray(items)) throw new RoachbankError('INVALID_ARGUMENT', 'transferMany takes an array of movements');
    if (items.length > maxTransferManyItems) {
      throw new RoachbankError('INVALID_ARGUMENT', `at most ${maxTransferManyItems} movements in one call, got ${items.length}`);
    }
    options.signal?.throwIfAborted();
    const read = (item: unknown) => {
      if (typeof item !== 'object' || item === null) throw new RoachbankError('INVALID_ARGUMENT', 'a movement must be an object');
      return movement(item as MovementRequest);
    };
    return eachReadable(items, read, (movements) => this.moveMany(movements, options.signal));
  }

  /** Checked movements in order, each seeing the ones before it: here one by one. */
  protected moveMany(movements: readonly Movement[], signal?: AbortSignal): Promise<MovementResult[]> {
    return this.inOrder(
      movements.map((item) => [item]),
      async ([item]) => {
        try {
          return [{ ok: true, outcome: await this.move(item!, signal) }];
        } catch (error) {
          return [{ ok: false, error }];
        }
      },
      signal,
    );
  }

  /**
   * Runs chunks of movements one after another. Once a chunk gets no definite answer
   * (the database is away, the outcome is unknown) or the signal fires, the chunks
   * after it are not sent: they fail with that reason (DATABASE_UNAVAILABLE, "not sent").
   */
  protected async inOrder(
    chunks: readonly (readonly Movement[])[],
    run: (chunk: readonly Movement[]) => Promise<MovementResult[]>,
    signal: AbortSignal | undefined,
  ): Promise<MovementResult[]> {
    const answers: MovementResult[] = [];
    let stop: unknown;
    for (const chunk of chunks) {
      const chunkAnswers = stop === undefined ? await run(chunk) : chunk.map((): MovementResult => ({ ok: false, error: stop }));
      answers.push(...chunkAnswers);
      stop ??= stopReason(chunkAnswers, signal);
    }
    return answers;
  }

  verify(options?: VerifyOptions): Promise<VerifyReport> {
    return runSingleStatement(this.pool, (client) => verifyInvariants(client, options), this.read);
  }

  /** Runs an idempotent operation, resolving ambiguous commits by running it again. */
  protected resolving<T>(operation: (ambiguity: AmbiguousCommitError | undefined) => Promise<T>): Promise<T> {
    return resolvingAmbiguity(operation, this.#onAmbiguous ? { onAmbiguous: this.#onAmbiguous } : {});
  }

  /**
   * An account whose insert did nothing: the same account again if it was opened with
   * this balance. Its opening deposit is the journal row under `openingId` only when
   * that row is exactly what opening it wrote (money entering this account); any other
   * row there is not its opening. An account that does not exist was not created
   * because its opening id is taken by another movement: IDEMPOTENCY_CONFLICT.
   */
  async #existingAccount(id: string, balance: bigint, openingId: string): Promise<Account> {
    const account = await this.getAccount(id).catch((error: unknown) => {
      if (error instanceof RoachbankError && error.code === 'ACCOUNT_NOT_FOUND') return undefined;
      throw error;
    });
    if (account === undefined) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `account id ${id} cannot be opened with a balance: the id of its opening deposit (${openingId}) is taken by another movement; open it under another id`,
      );
    }
    const opening = await this.getTransfer(openingId).catch((error: unknown) => {
      if (error instanceof RoachbankError && error.code === 'TRANSFER_NOT_FOUND') return null;
      throw error;
    });
    const openedWith = opening && opening.fromId === null && opening.toId === id ? opening.amount : 0n;
    if (openedWith !== balance) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `account id ${id} was already used with another opening balance: ${openedWith}, not ${balance}`,
      );
    }
    return account;
  }

  /**
   * Inserts the account and its opening deposit (when the balance is not 0) in one
   * transaction; undefined, with nothing written, if the account id exists or the
   * opening deposit's id is taken.
   */
  protected abstract insertAccount(account: NewAccount): Promise<Account | undefined>;

  /** Applies a checked movement exactly once per id (or answers it from the journal). */
  protected abstract move(request: Movement, signal?: AbortSignal): Promise<TransferOutcome>;

  abstract getAccount(id: string): Promise<Account>;

  async balances(accountIds: readonly string[]): Promise<bigint[]> {
    const ids = accountIds.map((id) => parseId(id, 'account id'));
    const found = await this.readBalances([...new Set(ids)]);
    return ids.map((id) => {
      const balance = found.get(id);
      if (balance === undefined) throw accountNotFound(id);
      return balance;
    });
  }

  /** The balances of these (distinct, checked) ids in one statement; absent ids are left out. */
  protected abstract readBalances(ids: readonly string[]): Promise<Map<string, bigint>>;
  abstract listAccounts(page?: PageRequest): Promise<Page<Account>>;
  abstract closeAccount(id: string): Promise<Account>;
  abstract getTransfer(id: string): Promise<Transfer>;
  abstract history(accountId: string, page?: PageRequest): Promise<Page<Transfer>>;
}

/** Why the movements after these answers must not be sent, if they must not. */
function stopReason(answers: readonly MovementResult[], signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  for (const answer of answers) {
    if (answer.ok || isDefiniteAnswer(answer.error)) continue;
    const why = answer.error instanceof Error ? answer.error.message : String(answer.error);
    return new RoachbankError(
      'DATABASE_UNAVAILABLE',
      `not sent: an earlier movement of this call got no definite answer (${why})`,
      {
        cause: answer.error,
      },
    );
  }
  return undefined;
}
