// The public surface of roachbank-app, the application: re-exports only. The
// library's own surface is the package roachbank, imported by its name.
export * from './database/connection-source.js';
export * from './database/embedded-server.js';
export * from './database/open-database.js';
export { type CrudExampleOptions, runCrudExample } from './examples/crud.js';
export { type CrudLibrary, crudLibraries } from './examples/crud-libraries.js';
export { runHelloExample } from './examples/hello.js';
export { buildServer, type ServerOptions } from './http/build-server.js';
export { type ServeOptions, serve } from './http/serve.js';
export { workloadReport } from './workload/html-report.js';
export {
  type IntervalStats,
  type InvariantReport,
  runWorkload,
  type WorkloadEvents,
  type WorkloadOptions,
  type WorkloadSummary,
} from './workload/run-workload.js';
