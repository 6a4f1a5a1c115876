// The public surface of roachbank: re-exports only.
export * from './config.js';
export * from './db/create-pool.js';
export * from './db/detect-server.js';
export * from './db/embedded-server.js';
export * from './db/migrate.js';
export * from './db/open-database.js';
export * from './db/pool-config.js';
export * from './errors/error-catalogue.js';
export * from './errors/roachbank-error.js';
export * from './examples/hello.js';
export * from './txn/ambiguous-commit-error.js';
export * from './txn/backoff.js';
export * from './txn/classify-error.js';
export * from './txn/describe-connection-error.js';
export * from './txn/retries-exhausted-error.js';
export * from './txn/run-transaction.js';
export * from './txn/transaction-aborted-error.js';
