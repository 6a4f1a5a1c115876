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
}

/**
 * The catalogue of error codes (DESIGN §3), in one place so the CLI, the HTTP
 * API and the README cannot drift apart; a test checks all three agree.
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
  },
  ACCOUNT_NOT_FOUND: {
    title: 'Account not found',
    exitCode: 3,
    httpStatus: 404,
    meaning: 'no such (open) account',
  },
  TRANSFER_NOT_FOUND: {
    title: 'Transfer not found',
    exitCode: 3,
    httpStatus: 404,
    meaning: 'no transfer with that id in the journal',
  },
  INSUFFICIENT_FUNDS: {
    title: 'Insufficient funds',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'the debit would take the balance below 0',
  },
  IDEMPOTENCY_CONFLICT: {
    title: 'Idempotency conflict',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'a transfer id reused with a different body',
  },
  ACCOUNT_NOT_EMPTY: {
    title: 'Account not empty',
    exitCode: 4,
    httpStatus: 409,
    meaning: 'closing an account whose balance is not 0',
  },
  AMBIGUOUS_COMMIT: {
    title: 'Ambiguous commit',
    exitCode: 5,
    httpStatus: 503,
    meaning: 'the outcome of COMMIT is unknown (connection lost after COMMIT was sent)',
  },
  RETRIES_EXHAUSTED: {
    title: 'Retries exhausted',
    exitCode: 5,
    httpStatus: 503,
    meaning: 'the transaction kept failing with retryable errors until maxAttempts',
  },
  DATABASE_UNAVAILABLE: {
    title: 'Database unavailable',
    exitCode: 5,
    httpStatus: 503,
    meaning: 'the database cannot be reached, refused the connection or cancelled the statement',
  },
  UNAUTHORIZED: {
    title: 'Unauthorized',
    exitCode: null,
    httpStatus: 401,
    meaning: 'missing or wrong API token',
  },
};
