import type { AmbiguousCommitError } from '../txn/ambiguous-commit-error.js';
import type { RetryEvent } from '../txn/run-transaction.js';
import type { Annotation, AnnotationRequest } from './annotations.js';
import type { GroupCommitOptions } from './group-commit.js';
import type { MovementKind } from './movement.js';

/** An account of the product schema. Money is `bigint` (INT8). Its `reference` and `metadata` are what it was opened with. */
export interface Account extends Annotation {
  readonly id: string;
  readonly balance: bigint;
  /** What its pending, unexpired holds reserve: counted against every debit, not yet moved. */
  readonly held: bigint;
  /** `balance − held`: what a transfer, withdrawal or hold may take from it now, with its credit limit below 0. */
  readonly available: bigint;
  /** Its currency (`XXX`, none, unless it was opened with one); never changes. Every amount is in its minor units. */
  readonly currency: string;
  /** How far below 0 its available balance may go (0: not at all). */
  readonly creditLimit: bigint;
  readonly createdAt: Date;
  /** When it was closed; closed accounts keep their history and take no more money. */
  readonly closedAt: Date | null;
}

/**
 * One row of the journal. Its `kind` says what it did: `deposit` (money entering,
 * `fromId` null; an opening balance is one), `withdrawal` (money leaving, `toId`
 * null) or `transfer` (both sides). Its `reference` and `metadata` are what the
 * movement was asked with (a hold's post and a reversal take the reference of what
 * they settle unless they name their own).
 */
export interface JournalEntry extends Annotation {
  readonly id: string;
  readonly kind: MovementKind;
  readonly fromId: string | null;
  readonly toId: string | null;
  readonly amount: bigint;
  /** The currency of its accounts (a movement never mixes two). */
  readonly currency: string;
  readonly createdAt: Date;
  /** The hold this row posted, if it is a hold's post. */
  readonly holdId: string | null;
  /** The journal row this one reverses, if it is a reversal. */
  readonly reversalOf: string | null;
  /**
   * Its number in its source's chain (1, 2, 3 … in the order the source's movements were
   * applied) and the source's balance after it; null for a deposit (no source).
   */
  readonly fromSequence: number | null;
  readonly fromBalanceAfter: bigint | null;
  /** The same for its destination; null for a withdrawal. */
  readonly toSequence: number | null;
  readonly toBalanceAfter: bigint | null;
}

/** A journal row as `getTransfer` shows it: with how much of it has been reversed so far. */
export interface JournalEntryDetail extends JournalEntry {
  readonly reversed: bigint;
}

/** Where a hold stands. `expired` from the moment its `expiresAt` passes, whether or not a sweep has tidied it. */
export type HoldStatus = 'pending' | 'posted' | 'voided' | 'expired';

/**
 * Money reserved on an account for a later transfer to `toId` (a withdrawal when
 * there is none): counted against the account's `available` until it is posted,
 * voided or expires. It writes no journal row; its post writes one.
 */
export interface Hold extends Annotation {
  readonly id: string;
  readonly fromId: string;
  readonly toId: string | null;
  readonly amount: bigint;
  readonly status: HoldStatus;
  readonly createdAt: Date;
  /** When it stops counting; null when it never expires. */
  readonly expiresAt: Date | null;
  /** What its post moved (at most `amount`; the rest was released). */
  readonly postedAmount: bigint | null;
  /** The journal row its post wrote. */
  readonly transferId: string | null;
}

/** The answer to `hold` and `voidHold`: the hold as it stands, and `replayed` when the call changed nothing because it had already happened. */
export interface HoldOutcome {
  readonly hold: Hold;
  readonly replayed: boolean;
}

/** The caller's request for `hold`. */
export interface HoldRequest extends AnnotationRequest {
  /** The hold's id and idempotency key; a fresh UUID when omitted. */
  readonly id?: string;
  readonly fromId: string;
  /** Where its post sends the money; none: the post is a withdrawal. */
  readonly toId?: string | null;
  readonly amount: bigint;
  /** From 1 ms to 366 days; none: it never expires. */
  readonly expiresInMs?: number | null;
}

/** Options of `postHold`: its journal row's reference is the hold's unless it names one. */
export interface PostHoldOptions extends MovementOptions, AnnotationRequest {
  /** The id of the journal row the post writes; default: one derived from the hold's id. */
  readonly id?: string;
  /** At most the held amount; default all of it. The rest is released. */
  readonly amount?: bigint;
}

/** Options of `reverse`: the reversal's reference is the reversed row's unless it names one. */
export interface ReverseOptions extends MovementOptions, AnnotationRequest {
  /** The id of the reversal's journal row; a fresh UUID when omitted. */
  readonly id?: string;
  /** Default: what is left to reverse. */
  readonly amount?: bigint;
}

/**
 * The answer to a money-moving call: the journal entry it made (or found), and
 * `replayed` when the id was already in the journal with the same body.
 */
export interface MovementOutcome {
  readonly transfer: JournalEntry;
  readonly replayed: boolean;
}

/** What a store answers for one movement: a hold or void answers with its hold, everything else with its journal row. */
export type MoveAnswer = MovementOutcome | HoldOutcome;

/** The caller's request for `transfer`: a `MovementRequest` with both sides. */
export interface TransferRequest extends AnnotationRequest {
  /** The idempotency key; a fresh UUID when omitted. */
  readonly id?: string;
  readonly fromId: string;
  readonly toId: string;
  readonly amount: bigint;
}

/** @deprecated The journal's row is `JournalEntry`; this name stays for code written before it. */
export type Transfer = JournalEntry;

/** @deprecated The answer to a money-moving call is `MovementOutcome`; this name stays for code written before it. */
export type TransferOutcome = MovementOutcome;

/** Options of one money-moving call. */
export interface MovementOptions {
  /**
   * Gives up waiting: the call rejects with the signal's reason at once. A movement
   * still queued for a batch is dropped; one already sent may still happen (repeat
   * its id to learn).
   */
  readonly signal?: AbortSignal;
}

/** Options of `deposit` and `withdraw`: the idempotency key (a fresh UUID when omitted), a reference and metadata. */
export interface SingleSideOptions extends MovementOptions, AnnotationRequest {
  readonly id?: string;
}

/**
 * The caller's request to move money, as `transferMany` takes it: a transfer (both
 * sides), a deposit (no `fromId`) or a withdrawal (no `toId`). Checked like a single
 * call; a malformed one fails alone.
 */
export interface MovementRequest extends AnnotationRequest {
  /** The idempotency key; a fresh UUID when omitted. */
  readonly id?: string;
  readonly fromId?: string | null;
  readonly toId?: string | null;
  /** A bigint, or a decimal string. */
  readonly amount: bigint | string;
}

/**
 * A hold as an item of `transferMany`: `kind: 'hold'`, then the fields of
 * `HoldRequest` (its amount may be a decimal string).
 */
export interface HoldItem extends AnnotationRequest {
  readonly kind: 'hold';
  readonly id?: string;
  readonly fromId: string;
  readonly toId?: string | null;
  readonly amount: bigint | string;
  readonly expiresInMs?: number | null;
}

/** Options of `transferMany`. */
export interface TransferManyOptions extends MovementOptions {
  /**
   * Every item or none, in one transaction: item i still sees the items before it;
   * when one fails it carries its error, every other item fails with GROUP_FAILED,
   * and nothing moved.
   */
  readonly atomic?: boolean;
}

/**
 * The answer to one item of `transferMany`: its `MovementOutcome`, or the error the
 * same single call would have thrown (a `RoachbankError` with a DESIGN §3 code,
 * or the database's own error when it failed some other way).
 */
export type MovementResult<O = MovementOutcome> =
  | { readonly ok: true; readonly outcome: O }
  | { readonly ok: false; readonly error: unknown };

/** The most movements one `transferMany` call takes. */
export const maxTransferManyItems = 1000;

/** One page of a list; pass `next` back as the cursor to get the following page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

export interface PageRequest {
  /** 1 to 1000; default 50. */
  readonly limit?: number;
  /** The `next` of the previous page. */
  readonly cursor?: string;
}

/** A page of accounts, oldest first (by when they were opened) or newest first. */
export interface AccountListRequest extends PageRequest {
  /** Default `oldest`. */
  readonly order?: 'oldest' | 'newest';
}

/** A look-up by reference, one page at a time. */
export interface ReferenceQuery {
  readonly reference: string;
  readonly page?: PageRequest;
}

/**
 * The accounts whose id starts with a prefix (a whole id, or at least its first 8 hex
 * digits, as `6f9619ff` or `6f9619ff-8b86`), by id, one page at a time.
 */
export interface IdPrefixQuery {
  readonly idPrefix: string;
  readonly page?: PageRequest;
}

/** A balance in an account's chain: after its row number `sequence` (0 and 0 before its first row). */
export interface ChainBalance {
  readonly sequence: number;
  readonly balance: bigint;
}

/** An account's balance at a moment, read from its journal's running balances. */
export interface BalanceAt extends ChainBalance {
  readonly accountId: string;
  readonly currency: string;
  /** The moment, as asked (RFC 3339; a Date as its ISO form): every row up to and including it counts. */
  readonly at: string;
}

/** A period of an account's statement, [from, to), each an RFC 3339 time or a Date, and a page of its lines. */
export interface StatementRequest {
  readonly from: Date | string;
  readonly to: Date | string;
  readonly page?: PageRequest;
}

/** One journal row as the account's statement shows it. */
export interface StatementLine {
  /** Its number in the account's chain. */
  readonly sequence: number;
  readonly transferId: string;
  readonly kind: MovementKind;
  readonly createdAt: Date;
  /** What it did to the account: money in is positive, money out negative. */
  readonly change: bigint;
  readonly balanceAfter: bigint;
  /** The account on the other side; null for a deposit or a withdrawal. */
  readonly counterpartyId: string | null;
  readonly reference: string | null;
}

/**
 * An account's statement for [from, to): the balance before the period, the lines in it
 * (oldest first, one page at a time) and the balance at its end. Adjacent periods join
 * exactly: one's closing is the next one's opening.
 */
export interface Statement {
  readonly accountId: string;
  readonly currency: string;
  readonly from: string;
  readonly to: string;
  readonly opening: ChainBalance;
  readonly closing: ChainBalance;
  /** How many journal rows the period holds (closing.sequence − opening.sequence), whatever the page. */
  readonly movements: number;
  readonly lines: Page<StatementLine>;
}

export interface VerifyOptions {
  /**
   * What moment is checked on CockroachDB: `follower` (default) a consistent
   * snapshot about 4.8 s old, read without contention; `latest` the present,
   * as a workload's audit needs right after its last write. PostgreSQL always
   * reads the present.
   */
  readonly asOf?: 'follower' | 'latest';
}

/** One currency's totals in `verify`'s report. */
export interface CurrencyTotals {
  readonly currency: string;
  readonly accounts: number;
  readonly totalBalance: bigint;
  readonly moneyIn: bigint;
  readonly moneyOut: bigint;
}

/** The outcome of `verify`: DESIGN §3's invariants, checked with set-based SQL. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly accounts: number;
  readonly transfers: number;
  /** Σ balances in minor units, all currencies together (the same as `currencies`' one total on a one-currency book). */
  readonly totalBalance: bigint;
  readonly moneyIn: bigint;
  readonly moneyOut: bigint;
  /** Accounts whose balance is not Σ journal in − Σ journal out (at most 10 listed). */
  readonly mismatched: readonly { readonly id: string; readonly balance: bigint; readonly journal: bigint }[];
  readonly mismatchedCount: number;
  /** Accounts below their floor: a balance under −creditLimit (under 0 for an account without a credit line). */
  readonly negativeCount: number;
  /** Journal rows with neither side, the same account on both sides, or a `kind` their sides contradict. */
  readonly malformedTransfers: number;
  /** Σ `held` of every account (its pending holds, expired ones included until a sweep releases them). */
  readonly heldTotal: bigint;
  /** Accounts whose `held` is not the sum of their pending holds. */
  readonly heldMismatchedCount: number;
  /** Accounts whose available balance (balance − unexpired pending holds) is below −creditLimit. */
  readonly overheldCount: number;
  /** Holds whose fields contradict their status, and posts that do not match their hold. */
  readonly malformedHolds: number;
  /** Reversals that name no journal row, go the wrong way, or add up to more than the row they reverse (or whose recorded total disagrees). */
  readonly badReversals: number;
  /** Journal legs (a row's side on one account) in a currency other than that account's. */
  readonly currencyMismatchedLegs: number;
  /**
   * Accounts whose chain of running balances does not hold: a gap or a repeat in the numbers
   * of their rows, a balance after that is not the one before plus or minus its amount, or
   * a last row whose balance after is not the account's balance.
   */
  readonly brokenChainCount: number;
  /** Conservation per currency, by code: each currency's Σ balances must be what entered in it less what left. */
  readonly currencies: readonly CurrencyTotals[];
  readonly elapsedMs: number;
}

/** Options of every bank: hooks for metrics (what the retry core and the ambiguity resolution did) and the retry budget. */
export interface CoreBankOptions {
  /** Every retry of a bank transaction (40001, 40P01, a lost connection before COMMIT). */
  readonly onRetry?: (event: RetryEvent) => void;
  /** Every ambiguous commit, before the bank resolves it by submitting the request again. */
  readonly onAmbiguous?: (error: AmbiguousCommitError) => void;
  /**
   * How long one bank operation keeps retrying before it gives up with
   * RETRIES_EXHAUSTED or DATABASE_UNAVAILABLE (`retryBudgetMs` of the retry core).
   * Default 8000 ms (`waitBounds`).
   */
  readonly retryBudgetMs?: number;
}

/** Options only the `pg` flavor's store reads (`PgStore`): group commit. */
export interface PgStoreOptions {
  /** Every batch statement that committed, with how many movements it carried (group commit only). */
  readonly onBatch?: (size: number) => void;
  /**
   * Group commit: concurrent `transfer`, `deposit` and `withdraw` calls share one
   * statement and one commit. On by default; `false` sends each movement as its
   * own statement.
   */
  readonly batch?: GroupCommitOptions | false;
}

/** The options `createBank` takes for either flavor: the `orm` flavor ignores the `pg` store's. */
export type BankOptions = CoreBankOptions & PgStoreOptions;

/** What `openAccount` did: `replayed` when the account id was already opened with the same balance. */
export interface AccountOutcome {
  readonly account: Account;
  readonly replayed: boolean;
}

export interface CreateAccountOptions extends AnnotationRequest {
  /** Opening balance, journaled as money entering; default 0. */
  readonly balance?: bigint;
  /**
   * The account id, making the call idempotent: the same id with the same opening
   * balance, currency, reference and metadata returns the account as it stands; with
   * another of them it is IDEMPOTENCY_CONFLICT. Default: a fresh UUID.
   */
  readonly id?: string;
  /** Its currency, fixed for good: `[A-Z][A-Z0-9_]{2,15}` (ISO 4217 or an asset of your own). Default `XXX` (none). */
  readonly currency?: string;
  /** How far below 0 its available balance may go; default 0. `setCreditLimit` changes it. */
  readonly creditLimit?: bigint;
}

/**
 * The bank: accounts, a journal of transfers, and its invariants. Implemented
 * on the pg driver (`PgBank`) and on Drizzle ORM (`OrmBank`); one contract test
 * suite runs against both. Every failure is a `RoachbankError` with a DESIGN §3 code.
 *
 * Money-moving calls are idempotent by transfer id: the same id with the same
 * body returns the original transfer (`replayed: true`) and moves nothing;
 * with another body it fails with IDEMPOTENCY_CONFLICT. A call that failed
 * (insufficient funds, unknown account) leaves no trace, so its id may be used
 * again later.
 *
 * @example
 * const bank = createBank(pool);
 * const a = await bank.createAccount({ balance: 1000n });
 * const b = await bank.createAccount();
 * await bank.transfer({ id: randomUUID(), fromId: a.id, toId: b.id, amount: 100n });
 */
export interface Bank {
  /** Opens an account; an opening balance is journaled as money entering. */
  createAccount(options?: CreateAccountOptions): Promise<Account>;
  /** `createAccount`, saying whether the id was already opened with the same balance (`replayed`). */
  openAccount(options?: CreateAccountOptions): Promise<AccountOutcome>;
  /** An account, open or closed; ACCOUNT_NOT_FOUND if there is none. */
  getAccount(id: string): Promise<Account>;
  /**
   * The balances of these accounts, in the same order, read in one snapshot (one
   * statement), so their sum is one moment's truth: what a Jepsen-style reader checks.
   * ACCOUNT_NOT_FOUND if one does not exist.
   */
  balances(accountIds: readonly string[]): Promise<bigint[]>;
  /** Accounts, oldest first or newest first (one range of the (created_at, id) index). */
  listAccounts(page?: AccountListRequest): Promise<Page<Account>>;
  /**
   * The accounts opened with this reference, oldest first, or those whose id starts with a
   * prefix, by id: each one index range, however large the book.
   */
  findAccounts(request: ReferenceQuery | IdPrefixQuery): Promise<Page<Account>>;
  /** Closes an account whose balance is 0 (ACCOUNT_NOT_EMPTY otherwise); closing it again returns it as it is. */
  closeAccount(id: string): Promise<Account>;
  /**
   * Sets how far below 0 an open account's available balance may go. Lowering it below
   * what the account already owes (its available balance below −limit) is
   * CREDIT_LIMIT_IN_USE; the same limit again changes nothing.
   */
  setCreditLimit(id: string, limit: bigint): Promise<Account>;
  deposit(accountId: string, amount: bigint, options?: SingleSideOptions): Promise<MovementOutcome>;
  withdraw(accountId: string, amount: bigint, options?: SingleSideOptions): Promise<MovementOutcome>;
  transfer(request: TransferRequest, options?: MovementOptions): Promise<MovementOutcome>;
  /**
   * Many movements in one call, answered one by one in input order, as if they ran
   * one after another: item i sees the effect of every item before it. The `pg`
   * flavor cuts the list into batches that keep that order (one statement and one
   * commit each); the `orm` flavor runs them one by one. A malformed item fails
   * alone; over `maxTransferManyItems` items is INVALID_ARGUMENT for the call. Once
   * the database fails a batch (unavailable, outcome unknown), the items after it
   * are not sent and fail with DATABASE_UNAVAILABLE.
   */
  transferMany(items: readonly MovementRequest[], options?: TransferManyOptions): Promise<MovementResult[]>;
  /** `transferMany` with holds among the items: a hold's result is its `HoldOutcome`. */
  transferMany(
    items: readonly (MovementRequest | HoldItem)[],
    options?: TransferManyOptions,
  ): Promise<MovementResult<MovementOutcome | HoldOutcome>[]>;
  /**
   * Reserves money of `fromId` (checked against its available balance) for a later
   * post to `toId`; idempotent by the hold id (another body: IDEMPOTENCY_CONFLICT).
   */
  hold(request: HoldRequest, options?: MovementOptions): Promise<HoldOutcome>;
  /**
   * Moves `amount` of a pending hold (default all of it) as one journal row and
   * releases the rest. Posting again with the same amount replays; a hold posted
   * otherwise or voided is HOLD_NOT_PENDING; one whose time ran out is HOLD_EXPIRED.
   */
  postHold(holdId: string, options?: PostHoldOptions): Promise<MovementOutcome>;
  /** Releases a pending hold. Voiding it again replays; a posted one is HOLD_NOT_PENDING; an expired one HOLD_EXPIRED. */
  voidHold(holdId: string, options?: MovementOptions): Promise<HoldOutcome>;
  /** A hold by its id; HOLD_NOT_FOUND if there is none. */
  getHold(id: string): Promise<Hold>;
  /** An account's holds, newest first. */
  holds(accountId: string, page?: PageRequest): Promise<Page<Hold>>;
  /**
   * Moves `amount` of a journal row (default what is left) back from where it went to
   * where it came from, as a new row naming it (`reversalOf`): the reversal of a
   * deposit is a withdrawal, of a withdrawal a deposit. Never more in total than the
   * row moved (REVERSAL_EXCEEDS_ORIGINAL); idempotent by id.
   */
  reverse(transferId: string, options?: ReverseOptions): Promise<MovementOutcome>;
  /**
   * Tidies up to `limit` accounts' expired holds (status `expired`, `held` reduced).
   * Correctness never depends on it: an expired hold counts for nothing either way.
   * Returns how many holds it released.
   */
  releaseExpiredHolds(limit?: number): Promise<number>;
  /** A journal row by its id, with what has been reversed of it; TRANSFER_NOT_FOUND if there is none. */
  getTransfer(id: string): Promise<JournalEntryDetail>;
  /** The journal rows of an account, newest first. */
  history(accountId: string, page?: PageRequest): Promise<Page<JournalEntry>>;
  /**
   * The account's balance at a moment, from the journal alone: the balance after its last
   * row at or before `at` (0 before its first). One look-up per index side, whatever the
   * history's length. ACCOUNT_NOT_FOUND for an unknown account.
   */
  balanceAt(accountId: string, at: Date | string): Promise<BalanceAt>;
  /** The account's statement for [from, to), its lines one page at a time (`from` after `to` is INVALID_ARGUMENT). */
  statement(accountId: string, request: StatementRequest): Promise<Statement>;
  /** The journal rows written with this reference, oldest first (an index range, however long the journal). */
  findTransfers(request: ReferenceQuery): Promise<Page<JournalEntry>>;
  /** Checks DESIGN §3's invariants in one statement (one snapshot), in a bounded number of passes over each table. */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
}

/** The two implementations of `Bank`. */
export const flavors = ['pg', 'orm'] as const;
export type Flavor = (typeof flavors)[number];
