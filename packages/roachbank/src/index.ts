// The public surface of the roachbank library: re-exports only. Drizzle ORM's
// flavor is `roachbank/orm` and each data layer's adapter its own entry
// (`roachbank/kysely`, …), so importing this one loads neither.
export { accountSide } from './bank/account-statements.js';
export * from './bank/annotations.js';
export { type AccountsAsked, askedAccounts } from './bank/asked-accounts.js';
export * from './bank/bank.js';
export * from './bank/create-bank.js';
export { checkedCurrency, currencyDecimals, currencyPattern, defaultCurrency, formatMinorUnits } from './bank/currencies.js';
export * from './bank/ids.js';
export { momentPattern, parseMoment, parsePeriod } from './bank/moments.js';
export * from './bank/money.js';
export { type MovementKind, maxHoldMs, movementKinds, type RequestKind, requestKind, requestKinds } from './bank/movement.js';
export { moveItems, movementItem, transferManyItems } from './bank/movement-items.js';
export * from './bank/pg-bank.js';
export { statementCsv, statementCsvColumns } from './bank/statement-csv.js';
export * from './bank/verify-invariants.js';
export * from './db/create-pool.js';
export * from './db/migrate.js';
export * from './db/pool-config.js';
export { describedFailure } from './db/pool-target.js';
export { runRead } from './db/run-read.js';
export * from './db/statement-isolation.js';
export { describeTarget, redactConnectionString } from './errors/connection-target.js';
export * from './errors/error-catalogue.js';
export * from './errors/roachbank-error.js';
export * from './txn/ambiguous-commit-error.js';
export * from './txn/backoff.js';
export * from './txn/classify-error.js';
export * from './txn/describe-connection-error.js';
export * from './txn/detect-server.js';
export * from './txn/retries-exhausted-error.js';
export * from './txn/run-transaction.js';
export * from './txn/transaction-aborted-error.js';
