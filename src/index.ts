// The public surface of roachbank: re-exports only.
export * from './bank/bank.js';
export * from './bank/create-bank.js';
export * from './bank/ids.js';
export * from './bank/money.js';
export * from './bank/orm-bank.js';
export * from './bank/pg-bank.js';
export * from './bank/verify-invariants.js';
export * from './config.js';
export * from './db/create-pool.js';
export * from './db/embedded-server.js';
export * from './db/migrate.js';
export * from './db/open-database.js';
export * from './db/pool-config.js';
export * from './db/statement-isolation.js';
export * from './errors/error-catalogue.js';
export * from './errors/roachbank-error.js';
export { type CrudExampleOptions, runCrudExample } from './examples/crud.js';
export { type CrudLibrary, crudLibraries } from './examples/crud-libraries.js';
export { runHelloExample } from './examples/hello.js';
export { buildServer, type ServerOptions } from './http/build-server.js';
export { type ServeOptions, serve } from './http/serve.js';
export * from './orm/run-orm-transaction.js';
export * from './txn/ambiguous-commit-error.js';
export * from './txn/backoff.js';
export * from './txn/classify-error.js';
export * from './txn/describe-connection-error.js';
export * from './txn/detect-server.js';
export * from './txn/retries-exhausted-error.js';
export * from './txn/run-transaction.js';
export * from './txn/transaction-aborted-error.js';
export { workloadReport } from './workload/html-report.js';
export {
  type IntervalStats,
  type InvariantReport,
  runWorkload,
  type WorkloadEvents,
  type WorkloadOptions,
  type WorkloadSummary,
} from './workload/run-workload.js';
