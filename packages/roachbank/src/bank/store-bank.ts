import type pg from 'pg';
import { describedFailure } from '../db/pool-target.js';
import { waitBounds } from '../db/wait-bounds.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import { runSingleStatement } from '../txn/run-transaction.js';
import { accountSide, readBalanceAt, readStatement } from './account-statements.js';
import { type Annotation, annotation, annotationDifferences, parseReference } from './annotations.js';
import {
  type Account,
  type AccountListRequest,
  type AccountOutcome,
  type BalanceAt,
  type Bank,
  type CoreBankOptions,
  type CreateAccountOptions,
  type Hold,
  type HoldItem,
  type HoldOutcome,
  type HoldRequest,
  type IdPrefixQuery,
  type JournalEntry,
  type JournalEntryDetail,
  type MoveAnswer,
  type MovementOptions,
  type MovementOutcome,
  type MovementRequest,
  type MovementResult,
  maxTransferManyItems,
  type Page,
  type PageRequest,
  type PostHoldOptions,
  type ReferenceQuery,
  type ReverseOptions,
  type SingleSideOptions,
  type Statement,
  type StatementRequest,
  type TransferManyOptions,
  type TransferRequest,
  type VerifyOptions,
  type VerifyReport,
} from './bank.js';
import { accountNotFound, isDataRefusal } from './bank-errors.js';
import type { AccountChange, BankStore, StoreRetry } from './bank-store.js';
import { assertBatchRule, sequentialBatches } from './batch-rule.js';
import { checkedCurrency, defaultCurrency } from './currencies.js';
import { describingFailures } from './described-failures.js';
import { GroupCommit, groupCommitDefaults } from './group-commit.js';
import { derivedId, idOrNew, idPrefixRange, openingIdOf, parseId } from './ids.js';
import { parseMoment, parsePeriod } from './moments.js';
import { parseAmount, parseCreditLimit } from './money.js';
import { type CheckedMovement, holdMovement, movement, postMovement, reversalMovement, voidMovement } from './movement.js';
import { holdNotFound } from './movement-decision.js';
import { eachReadable, groupFailed } from './movement-items.js';
import { chainPageFrom, chainPageOf, pageFrom, pageOf } from './page-cursor.js';
import { isDefiniteAnswer, isRefusal, refusedAfterAmbiguity, resolvingAmbiguity } from './resolve-ambiguity.js';
import { verifyInvariants } from './verify-invariants.js';

/**
 * The retry options of a bank's stores, from its options: `onRetry` hears every
 * retry and the budget holds; reads are marked read-only (a lost connection is
 * retried, never ambiguous).
 */
export function storeRetry(options: CoreBankOptions): StoreRetry {
  const write = {
    retryBudgetMs: options.retryBudgetMs ?? waitBounds.retryBudgetMs,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  };
  return { write, read: { ...write, readOnly: true } };
}

/**
 * The bank, once, over a store (DESIGN §1): the checks of every request, idempotent
 * account opening, ambiguous commits resolved by the journal, `transferMany` in
 * input order, and group commit where the store batches. Every money movement is one
 * `CheckedMovement` answered by `decideMovement` inside the store.
 *
 * @example
 * const bank = new StoreBank(new PgStore(pool, storeRetry({})), {});
 */
export class StoreBank implements Bank {
  readonly #store: BankStore;
  readonly #ambiguity: { onAmbiguous?: (error: AmbiguousCommitError) => void };
  readonly #group: GroupCommit | undefined;
  /** How many movements `transferMany` puts in one batch: group commit's size, else 1. */
  readonly #batchSize: number;

  constructor(store: BankStore, options: CoreBankOptions = {}) {
    this.#store = describingFailures(store);
    this.#batchSize = store.groupCommit ? (store.groupCommit.maxSize ?? groupCommitDefaults.maxSize) : 1;
    this.#ambiguity = options.onAmbiguous ? { onAmbiguous: options.onAmbiguous } : {};
    this.#group = store.groupCommit ? new GroupCommit((batch) => this.#runBatch(batch), store.groupCommit) : undefined;
  }

  async createAccount(options: CreateAccountOptions = {}): Promise<Account> {
    return (await this.openAccount(options)).account;
  }

  async openAccount(options: CreateAccountOptions = {}): Promise<AccountOutcome> {
    const balance =
      options.balance === undefined || options.balance === 0n ? 0n : parseAmount(options.balance, 'opening balance');
    const id = idOrNew(options.id, 'account id');
    const currency = options.currency === undefined ? defaultCurrency : checkedCurrency(options.currency);
    const creditLimit = options.creditLimit === undefined ? 0n : parseCreditLimit(options.creditLimit);
    const annotated = annotation(options);
    const openingId = openingIdOf(id);
    const created = await this.#resolving(() =>
      this.#store.insertAccount({ id, balance, openingId, currency, creditLimit, ...annotated }),
    );
    return created
      ? { account: created, replayed: false }
      : { account: await this.#existingAccount(id, balance, openingId, currency, annotated), replayed: true };
  }

  async deposit(accountId: string, amount: bigint, options: SingleSideOptions = {}): Promise<MovementOutcome> {
    const { signal, ...request } = options;
    return this.#moveMoney(movement({ ...request, fromId: null, toId: accountId, amount }), signal);
  }

  async withdraw(accountId: string, amount: bigint, options: SingleSideOptions = {}): Promise<MovementOutcome> {
    const { signal, ...request } = options;
    return this.#moveMoney(movement({ ...request, fromId: accountId, toId: null, amount }), signal);
  }

  async transfer(request: TransferRequest, options: MovementOptions = {}): Promise<MovementOutcome> {
    return this.#moveMoney(movement(request), options.signal);
  }

  transferMany(items: readonly MovementRequest[], options?: TransferManyOptions): Promise<MovementResult[]>;
  transferMany(
    items: readonly (MovementRequest | HoldItem)[],
    options?: TransferManyOptions,
  ): Promise<MovementResult<MoveAnswer>[]>;
  async transferMany(
    items: readonly (MovementRequest | HoldItem)[],
    options: TransferManyOptions = {},
  ): Promise<MovementResult<MoveAnswer>[]> {
    if (!Array.isArray(items)) throw new RoachbankError('INVALID_ARGUMENT', 'transferMany takes an array of movements');
    if (items.length > maxTransferManyItems) {
      throw new RoachbankError('INVALID_ARGUMENT', `at most ${maxTransferManyItems} movements in one call, got ${items.length}`);
    }
    options.signal?.throwIfAborted();
    const read = (item: unknown): CheckedMovement => {
      if (typeof item !== 'object' || item === null) throw new RoachbankError('INVALID_ARGUMENT', 'a movement must be an object');
      const { kind, ...request } = item as (MovementRequest | HoldItem) & { kind?: unknown };
      if (kind === 'hold') return holdMovement(request as HoldRequest);
      if (kind !== undefined)
        throw new RoachbankError('INVALID_ARGUMENT', `an item's kind is "hold" or absent, got ${JSON.stringify(kind)}`);
      return movement(request as MovementRequest);
    };
    if (options.atomic) return this.#moveAtomic(items, read, options.signal);
    return eachReadable(items, read, (movements) => this.#moveInOrder(movements, options.signal));
  }

  async hold(request: HoldRequest, options: MovementOptions = {}): Promise<HoldOutcome> {
    if (typeof request !== 'object' || request === null)
      throw new RoachbankError('INVALID_ARGUMENT', 'a hold request must be an object');
    return (await this.#move(holdMovement(request), options.signal)) as HoldOutcome;
  }

  async postHold(holdId: string, options: PostHoldOptions = {}): Promise<MovementOutcome> {
    const hold = await this.getHold(holdId);
    const { signal, ...request } = options;
    const id = options.id === undefined ? derivedId('post', hold.id) : parseId(options.id, 'post id');
    return this.#moveMoney(postMovement(hold, { ...request, id, amount: options.amount ?? hold.amount }), signal);
  }

  async voidHold(holdId: string, options: MovementOptions = {}): Promise<HoldOutcome> {
    const hold = await this.getHold(holdId);
    return (await this.#move(voidMovement(hold), options.signal)) as HoldOutcome;
  }

  async getHold(id: string): Promise<Hold> {
    const holdId = parseId(id, 'hold id');
    const hold = (await this.#store.findHolds([holdId])).get(holdId);
    if (!hold) throw holdNotFound(holdId);
    return hold;
  }

  async holds(accountId: string, request?: PageRequest): Promise<Page<Hold>> {
    const id = parseId(accountId, 'account id');
    const { limit, after } = pageOf(request);
    const rows = await this.#store.holdsOf(id, limit + 1, after);
    if (rows.length === 0 && !after) await this.getAccount(id); // an unknown account is an error, not an empty list
    return pageFrom(rows, limit, ({ position: _, ...hold }) => hold);
  }

  /**
   * A reversal of what is left when no amount is given: that is read first, and read
   * again if a concurrent reversal took some of it before this one was applied.
   */
  async reverse(transferId: string, options: ReverseOptions = {}): Promise<MovementOutcome> {
    const { signal, ...request } = options;
    const original = await this.getTransfer(transferId);
    if (options.amount !== undefined) {
      return this.#moveMoney(reversalMovement(original, { ...request, amount: options.amount }), signal);
    }
    const id = idOrNew(options.id, 'reversal id');
    for (let left = original.amount - original.reversed, tries = 1; ; tries++) {
      try {
        // Nothing left: only a replay of this id can still answer, so its own amount is asked for.
        const amount = left > 0n ? left : await this.#replayedAmount(id, original.id);
        return await this.#moveMoney(reversalMovement(original, { ...request, id, amount }), signal);
      } catch (error) {
        if (!(error instanceof RoachbankError && error.code === 'REVERSAL_EXCEEDS_ORIGINAL') || tries >= 3) throw error;
        left = original.amount - (await this.#store.reversedOf(original.id));
      }
    }
  }

  async releaseExpiredHolds(limit = 1000): Promise<number> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
      throw new RoachbankError('INVALID_ARGUMENT', `limit must be an integer from 1 to 100000, got ${String(limit)}`);
    }
    return this.#resolving(() => this.#store.releaseExpired(limit));
  }

  async getAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    const account = await this.#store.findAccount(accountId);
    if (!account) throw accountNotFound(accountId);
    return account;
  }

  async balances(accountIds: readonly string[]): Promise<bigint[]> {
    const ids = accountIds.map((id) => parseId(id, 'account id'));
    const found = await this.#store.readBalances([...new Set(ids)]);
    return ids.map((id) => {
      const balance = found.get(id);
      if (balance === undefined) throw accountNotFound(id);
      return balance;
    });
  }

  async listAccounts(request?: AccountListRequest): Promise<Page<Account>> {
    const { limit, after } = pageOf(request);
    const order = request?.order ?? 'oldest';
    if (order !== 'oldest' && order !== 'newest') {
      throw new RoachbankError('INVALID_ARGUMENT', `order must be oldest or newest, got ${JSON.stringify(String(order))}`);
    }
    const rows = await this.#store.listAccounts(limit + 1, after, order === 'newest');
    return pageFrom(rows, limit, ({ position: _, ...account }) => account);
  }

  async findAccounts(query: ReferenceQuery | IdPrefixQuery): Promise<Page<Account>> {
    if ('idPrefix' in query) {
      const { lower, upper } = idPrefixRange(query.idPrefix);
      const { limit, after } = pageOf(query.page);
      const rows = await this.#store.accountsByIdRange(lower, upper, limit + 1, after?.id ?? null);
      return pageFrom(rows, limit, ({ position: _, ...account }) => account);
    }
    const { reference, limit, after } = referencePage(query);
    const rows = await this.#store.accountsByReference(reference, limit + 1, after);
    return pageFrom(rows, limit, ({ position: _, ...account }) => account);
  }

  async findTransfers(query: ReferenceQuery): Promise<Page<JournalEntry>> {
    const { reference, limit, after } = referencePage(query);
    const rows = await this.#store.transfersByReference(reference, limit + 1, after);
    return pageFrom(rows, limit, ({ position: _, ...transfer }) => transfer);
  }

  async closeAccount(id: string): Promise<Account> {
    const accountId = parseId(id, 'account id');
    return this.#resolving(() => this.#store.changeAccount(accountId, (account) => closing(accountId, account)));
  }

  async setCreditLimit(id: string, limit: bigint): Promise<Account> {
    const accountId = parseId(id, 'account id');
    const creditLimit = parseCreditLimit(limit);
    return this.#resolving(() =>
      this.#store.changeAccount(accountId, (account) => creditLimitChange(accountId, account, creditLimit)),
    );
  }

  async getTransfer(id: string): Promise<JournalEntryDetail> {
    const transferId = parseId(id, 'transfer id');
    const transfer = (await this.#store.findTransfers([transferId])).get(transferId);
    if (!transfer) throw new RoachbankError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
    return { ...transfer, reversed: await this.#store.reversedOf(transferId) };
  }

  async history(accountId: string, request?: PageRequest): Promise<Page<JournalEntry>> {
    const id = parseId(accountId, 'account id');
    const { limit, after } = chainPageOf(request);
    const rows = await this.#store.history(id, limit + 1, after);
    if (rows.length === 0 && !after) await this.getAccount(id); // an unknown account is an error, not an empty history
    const positioned = rows.map((row) => ({ ...row, sequence: accountSide(id, row).sequence }));
    return chainPageFrom(positioned, limit, ({ position: _, sequence: __, ...transfer }) => transfer);
  }

  async balanceAt(accountId: string, at: Date | string): Promise<BalanceAt> {
    const id = parseId(accountId, 'account id');
    const moment = parseMoment(at, 'at');
    return this.#readJournal((client) => readBalanceAt(client, id, moment));
  }

  async statement(accountId: string, request: StatementRequest): Promise<Statement> {
    const id = parseId(accountId, 'account id');
    const period = parsePeriod(request?.from, request?.to);
    const { limit, after } = chainPageOf(request.page);
    return this.#readJournal((client) => readStatement(client, id, period, limit, after));
  }

  /** One read of the journal on the store's pool, as `verify` reads it, for every flavor. */
  async #readJournal<T>(read: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const { pool, retry } = this.#store;
    try {
      return await runSingleStatement(pool, read, retry.read);
    } catch (error) {
      if (error instanceof RoachbankError) throw error;
      throw describedFailure(pool, error);
    }
  }

  async verify(options?: VerifyOptions): Promise<VerifyReport> {
    const { pool, retry } = this.#store;
    try {
      return await runSingleStatement(pool, (client) => verifyInvariants(client, options), retry.read);
    } catch (error) {
      throw describedFailure(pool, error);
    }
  }

  /** A movement that writes a journal row, answered with it. */
  async #moveMoney(item: CheckedMovement, signal: AbortSignal | undefined): Promise<MovementOutcome> {
    return (await this.#move(item, signal)) as MovementOutcome;
  }

  /** The amount of the reversal of `originalId` journaled under `id`, for a replay; REVERSAL_EXCEEDS_ORIGINAL when there is none. */
  async #replayedAmount(id: string, originalId: string): Promise<bigint> {
    const row = (await this.#store.findTransfers([id])).get(id);
    if (row?.reversalOf === originalId) return row.amount;
    throw new RoachbankError('REVERSAL_EXCEEDS_ORIGINAL', `transfer ${originalId} has nothing left to reverse`);
  }

  /** One movement: through group commit when the store batches, else as a batch of one. */
  async #move(item: CheckedMovement, signal: AbortSignal | undefined): Promise<MoveAnswer> {
    if (this.#group) return this.#group.submit(item, signal);
    const [answer] = await this.#runBatch([item], signal);
    if (!answer!.ok) throw answer!.error;
    return answer!.outcome;
  }

  /**
   * An atomic `transferMany`: every item or none, in one transaction of its own (never
   * shared with other callers' batches), as consecutive batches that keep input order.
   * A malformed item sends nothing. When the database refuses a batch for one item's
   * data (an INT8 overflow), the group is sent again one item per statement, so that
   * the item is named; after an unknown outcome the whole group is sent again, and
   * the journal answers every item.
   */
  async #moveAtomic(
    values: readonly unknown[],
    read: (value: unknown) => CheckedMovement,
    signal: AbortSignal | undefined,
  ): Promise<MovementResult<MoveAnswer>[]> {
    const items: CheckedMovement[] = [];
    for (const [index, value] of values.entries()) {
      try {
        items.push(read(value));
      } catch (error) {
        return groupFailed(values.length, index, error);
      }
    }
    if (items.length === 0) return [];
    const send = (size: number) => this.#resolving(() => this.#store.moveGroup(sequentialBatches(items, size), signal));
    let group: Awaited<ReturnType<BankStore['moveGroup']>>;
    try {
      group = await send(this.#batchSize);
    } catch (error) {
      if (!isDataRefusal(error) || this.#batchSize === 1) return items.map(() => ({ ok: false, error }));
      try {
        group = await send(1);
      } catch (alone) {
        return items.map(() => ({ ok: false, error: alone }));
      }
    }
    return group.ok ? group.answers : groupFailed(items.length, group.index, group.error);
  }

  /** `transferMany`: consecutive batches that keep input order, each waiting for the one before. */
  #moveInOrder(movements: readonly CheckedMovement[], signal: AbortSignal | undefined): Promise<MovementResult<MoveAnswer>[]> {
    return inOrder(
      sequentialBatches(movements, this.#batchSize),
      (batch) => this.#runBatch(batch, this.#group ? undefined : signal),
      signal,
    );
  }

  /**
   * One batch (it keeps the batch rule), answered item by item. A retryable failure
   * is retried inside the store; an ambiguous commit sends the same batch again,
   * which finds what the first try journaled; a refusal caused by one item's data
   * (an INT8 overflow, say) splits the batch in halves until that item stands alone
   * and gets the answer a single movement would. Any other failure is every item's answer.
   */
  async #runBatch(items: readonly CheckedMovement[], signal?: AbortSignal): Promise<MovementResult<MoveAnswer>[]> {
    if (items.length > 1) assertBatchRule(items);
    let answers: MovementResult<MoveAnswer>[];
    let ambiguity: AmbiguousCommitError | undefined;
    try {
      answers = await this.#resolving(async (earlier) => {
        ambiguity = earlier;
        const tried = await this.#store.moveBatch(items, signal);
        // After an attempt with an unknown outcome, an item this one could not answer
        // (its journal read failed) may be that attempt's: only the journal can say, so
        // the batch is sent again (it is idempotent) until every item has a definite word.
        for (const answer of tried) if (earlier && !answer.ok && !isDefiniteAnswer(answer.error)) throw answer.error;
        return tried;
      });
    } catch (error) {
      if (items.length > 1 && isDataRefusal(error)) {
        const half = items.length >> 1;
        return [...(await this.#runBatch(items.slice(0, half))), ...(await this.#runBatch(items.slice(half)))];
      }
      return items.map(() => ({ ok: false, error }));
    }
    // After an attempt with an unknown outcome, a refusal is not the journal's last word.
    const settled = ambiguity;
    if (settled === undefined) return answers;
    return answers.map((answer) =>
      !answer.ok && isRefusal(answer.error) ? { ok: false, error: refusedAfterAmbiguity(settled, answer.error) } : answer,
    );
  }

  /** Runs an idempotent operation, resolving ambiguous commits by running it again. */
  #resolving<T>(operation: (ambiguity: AmbiguousCommitError | undefined) => Promise<T>): Promise<T> {
    return resolvingAmbiguity(operation, this.#ambiguity);
  }

  /**
   * An account whose insert did nothing: the same account again if it was opened with
   * this balance. Its opening deposit is the journal row under `openingId` only when
   * that row is exactly what opening it wrote (money entering this account); any other
   * row there is not its opening. An account that does not exist was not created
   * because its opening id is taken by another movement: IDEMPOTENCY_CONFLICT.
   */
  async #existingAccount(
    id: string,
    balance: bigint,
    openingId: string,
    currency: string,
    annotated: Annotation,
  ): Promise<Account> {
    const account = await this.#store.findAccount(id);
    if (account === undefined) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `account id ${id} cannot be opened with a balance: the id of its opening deposit (${openingId}) is taken by another movement; open it under another id`,
      );
    }
    const opening = (await this.#store.findTransfers([openingId])).get(openingId);
    const openedWith = opening && opening.kind === 'deposit' && opening.toId === id ? opening.amount : 0n;
    if (openedWith !== balance) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `account id ${id} was already used with another opening balance: ${openedWith}, not ${balance}`,
      );
    }
    if (account.currency !== currency) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `account id ${id} was already opened in another currency: ${account.currency}, not ${currency}`,
      );
    }
    const differences = annotationDifferences(account, annotated);
    if (differences.length > 0) {
      throw new RoachbankError(
        'IDEMPOTENCY_CONFLICT',
        `account id ${id} was already opened otherwise: ${differences.join('; ')}`,
      );
    }
    return account;
  }
}

/** A look-up by reference, checked: a reference (INVALID_ARGUMENT if it is missing or not one) and its page. */
function referencePage(query: ReferenceQuery) {
  if (typeof query !== 'object' || query === null) throw new RoachbankError('INVALID_ARGUMENT', 'a look-up names a reference');
  const reference = parseReference(query.reference);
  if (reference === null) throw new RoachbankError('INVALID_ARGUMENT', 'reference is required');
  return { reference, ...pageOf(query.page) };
}

/**
 * Whether a locked account takes a new credit limit: an open one does, unless it already
 * owes more than the limit allows (its available balance below −limit); the same limit
 * again changes nothing.
 */
function creditLimitChange(id: string, account: Account | undefined, creditLimit: bigint): Account | AccountChange {
  if (!account || account.closedAt) throw accountNotFound(id, 'open');
  if (account.creditLimit === creditLimit) return account;
  if (account.available < -creditLimit) {
    throw new RoachbankError(
      'CREDIT_LIMIT_IN_USE',
      `account ${id} owes ${-account.available} (available ${account.available}): its credit limit cannot go below that, got ${creditLimit}`,
    );
  }
  return { setCreditLimit: creditLimit };
}

/** Whether a locked account may be closed: only an empty one; closing a closed one answers it as it is. */
function closing(id: string, account: Account | undefined): Account | 'close' {
  if (!account) throw accountNotFound(id);
  if (account.closedAt) return account;
  if (account.balance !== 0n) {
    throw new RoachbankError('ACCOUNT_NOT_EMPTY', `account ${id} holds ${account.balance}: empty it before closing`);
  }
  return 'close';
}

/**
 * Runs chunks of movements one after another. Once a chunk gets no definite answer
 * (the database is away, the outcome is unknown) or the signal fires, the chunks
 * after it are not sent: they fail with that reason (DATABASE_UNAVAILABLE, "not sent").
 */
async function inOrder(
  chunks: readonly (readonly CheckedMovement[])[],
  run: (chunk: readonly CheckedMovement[]) => Promise<MovementResult<MoveAnswer>[]>,
  signal: AbortSignal | undefined,
): Promise<MovementResult<MoveAnswer>[]> {
  const answers: MovementResult<MoveAnswer>[] = [];
  let stop: unknown;
  for (const chunk of chunks) {
    const chunkAnswers =
      stop === undefined ? await run(chunk) : chunk.map((): MovementResult<MoveAnswer> => ({ ok: false, error: stop }));
    answers.push(...chunkAnswers);
    stop ??= stopReason(chunkAnswers, signal);
  }
  return answers;
}

/** Why the movements after these answers must not be sent, if they must not. */
function stopReason(answers: readonly MovementResult<MoveAnswer>[], signal: AbortSignal | undefined): unknown {
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
