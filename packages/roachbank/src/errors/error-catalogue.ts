import type { ErrorCode } from './roachbank-error.js';

/** How one error code shows on each surface. */
export interface ErrorCodeEntry {
  /** Exit status of the `roachbank` CLI; `null` where the CLI cannot meet the error. */
  readonly exitCode: number | null;
  /** HTTP status of the API. */
  readonly httpStatus: number;
  /** A short phrase for the code: the `title` of its HTTP problem. */
  readonly title: string;
  /** One line for humans: what the code means. */
  readonly meaning: string;
  /**
   * A definite answer: the error proves the request changed nothing and is the
   * bank's word on it (a refusal, a bad request, the journal's IDEMPOTENCY_CONFLICT),
   * as opposed to the database failing to answer or saying it cannot tell. After an
   * attempt whose outcome is unknown, only such an answer may end the wait (DESIGN §8;
   * a refusal then still goes through the journal, `refusedAfterAmbiguity`).
   */
  readonly provesNothingHappened: boolean;
}

/**
 * The catalogue of error codes (DESIGN §3), closed: every code any surface emits is
 * here, so the CLI, the HTTP API and the README cannot drift apart; a test checks
 * all three agree, both ways.
 *
 * @example
 * process.exitCode = errorCatalogue[error.code].exitCode ?? 1;
 */
export const errorCatalogue: Readonly<Record<ErrorCode, ErrorCodeEntry>> = {
  INVALID_ARGUMENT: {
    title: 'Invalid argument',
    exitCode: 2,
    httpStatus: 400,
    meaning: 'malformed id, amount, flag, body or connection string',
    provesNothingHappened: true,
  },
  ACCOUNT_NOT_FOUND: {
    title: 'Account not found',
    exitCode: 3,
    httpStatus: 404,
    meaning: 'no such (open) account',
    provesNothingHappened: true,
  },
  TRANSFER_NOT_FOUND: {
    title: 'Transfer not found',
    exitCode: 3,
    httpStatus: 404,
    meaning: 'no transfer with that id in the journal',
    provesNothingHappened: true,
  },
  INSUFFICIENT_FUNDS: {
    title: 'Insufficient funds',
    exitCode: 4,
    httpStatus: 409,
    meaning:
      'the debit (a transfer, withdrawal, hold or reversal) is more than the source has available (balance − held) plus its credit limit',
    provesNothingHappened: true,
  },
  IDEMPOTENCY_CONFLICT: {
    title: 'Idempotency conflict',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'a transfer or hold id reused with a different body',
    provesNothingHappened: true,
  },
  ACCOUNT_NOT_EMPTY: {
    title: 'Account not empty',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'closing an account whose balance is not 0',
    provesNothingHappened: true,
  },
  BALANCE_LIMIT: {
    title: 'Balance limit',
    exitCode: 4,
    httpStatus: 409,
    meaning: "the credit would take a balance past 2^63 - 1, or a hold its source's held sum",
    provesNothingHappened: true,
  },
  HOLD_NOT_FOUND: {
    title: 'Hold not found',
    exitCode: 3,
    httpStatus: 404,
    meaning: 'no hold with that id',
    provesNothingHappened: true,
  },
  HOLD_NOT_PENDING: {
    title: 'Hold not pending',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'the hold was already posted (for another amount) or voided',
    provesNothingHappened: true,
  },
  HOLD_EXPIRED: {
    title: 'Hold expired',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'the hold’s time ran out: it reserves nothing and can no longer be posted or voided',
    provesNothingHappened: true,
  },
  POST_EXCEEDS_HOLD: {
    title: 'Post exceeds hold',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'a post of more than the hold reserved',
    provesNothingHappened: true,
  },
  REVERSAL_EXCEEDS_ORIGINAL: {
    title: 'Reversal too large',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'the reversals of a movement would add up to more than it moved',
    provesNothingHappened: true,
  },
  GROUP_FAILED: {
    title: 'Group failed',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'another item of an atomic group failed, so nothing of the group happened',
    provesNothingHappened: true,
  },
  CURRENCY_MISMATCH: {
    title: 'Currency mismatch',
    exitCode: 4,
    httpStatus: 409,
    meaning:
      'a movement or hold between accounts of different currencies (an exchange is an atomic group through an exchange account in each)',
    provesNothingHappened: true,
  },
  CREDIT_LIMIT_IN_USE: {
    title: 'Credit limit in use',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'lowering a credit limit below what the account already owes (its available balance below 0)',
    provesNothingHappened: true,
  },
  AMBIGUOUS_COMMIT: {
    title: 'Ambiguous commit',
    exitCode: 5,
    httpStatus: 503,
    meaning: 'the outcome of COMMIT is unknown (connection lost after COMMIT was sent)',
    provesNothingHappened: false,
  },
  RETRIES_EXHAUSTED: {
    title: 'Retries exhausted',
    exitCode: 5,
    httpStatus: 503,
    meaning: 'the transaction kept failing with retryable errors until maxAttempts',
    provesNothingHappened: false,
  },
  DATABASE_UNAVAILABLE: {
    title: 'Database unavailable',
    exitCode: 5,
    httpStatus: 503,
    meaning:
      'the database cannot be reached, refused the connection or cancelled the statement, or the journal could not be read to answer',
    provesNothingHappened: false,
  },
  UNAUTHORIZED: {
    title: 'Unauthorized',
    exitCode: null,
    httpStatus: 401,
    meaning: 'missing or wrong API token',
    provesNothingHappened: true,
  },
  NOT_FOUND: {
    title: 'Not found',
    exitCode: null,
    httpStatus: 404,
    meaning: 'no such route in the HTTP API',
    provesNothingHappened: true,
  },
  METHOD_NOT_ALLOWED: {
    title: 'Method not allowed',
    exitCode: null,
    httpStatus: 405,
    meaning: 'the route does not take that HTTP method',
    provesNothingHappened: true,
  },
  TRANSACTION_ABORTED: {
    title: 'Transaction aborted',
    exitCode: 1,
    httpStatus: 500,
    meaning: 'a statement failed inside runTransaction and the callback caught it; the transaction was rolled back',
    // That attempt wrote nothing, but it says nothing of an earlier attempt cut at COMMIT.
    provesNothingHappened: false,
  },
  INTERNAL: {
    title: 'Internal error',
    exitCode: 1,
    httpStatus: 500,
    meaning: 'an unexpected failure (a bug); what happened is not known',
    provesNothingHappened: false,
  },
};
