/** Every stable error code roachbank reports, on every surface (DESIGN §3). */
export const errorCodes = [
  'INVALID_ARGUMENT',
  'ACCOUNT_NOT_FOUND',
  'TRANSFER_NOT_FOUND',
  'INSUFFICIENT_FUNDS',
  'IDEMPOTENCY_CONFLICT',
  'ACCOUNT_NOT_EMPTY',
  'BALANCE_LIMIT',
  'HOLD_NOT_FOUND',
  'HOLD_NOT_PENDING',
  'HOLD_EXPIRED',
  'POST_EXCEEDS_HOLD',
  'REVERSAL_EXCEEDS_ORIGINAL',
  'GROUP_FAILED',
  'CURRENCY_MISMATCH',
  'CREDIT_LIMIT_IN_USE',
  'AMBIGUOUS_COMMIT',
  'RETRIES_EXHAUSTED',
  'DATABASE_UNAVAILABLE',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'TRANSACTION_ABORTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * The one base class of roachbank's own errors: a stable `code` and, where
 * there is one, the underlying `cause`.
 *
 * Surfaces branch on `code` only, never on the message or the subclass.
 *
 * @example
 * try { await bank.transfer(t) } catch (e) {
 *   if (e instanceof RoachbankError && e.code === 'INSUFFICIENT_FUNDS') { ... }
 * }
 */
export class RoachbankError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
