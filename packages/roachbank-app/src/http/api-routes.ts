import type { FastifyInstance } from 'fastify';
import { accountMoneyRoutes } from './routes/account-money-routes.js';
import { accountRoutes } from './routes/account-routes.js';
import type { ApiContext } from './routes/api-context.js';
import { holdRoutes } from './routes/hold-routes.js';
import { statementRoutes } from './routes/statement-routes.js';
import { systemRoutes } from './routes/system-routes.js';
import { transferRoutes } from './routes/transfer-routes.js';
import { verifyRoutes } from './routes/verify-routes.js';

/**
 * The bank's JSON API, one Fastify plugin per resource (in `routes/`), in the
 * order the OpenAPI document lists them. Money-moving POSTs take an
 * Idempotency-Key: it becomes the transfer (or account) id, so a repeated
 * request is answered from the journal with the same status and body, and
 * money moves once.
 *
 * @example
 * await registerApiRoutes(app, { bank, metrics });
 */
export async function registerApiRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  for (const routes of [
    accountRoutes,
    accountMoneyRoutes,
    statementRoutes,
    transferRoutes,
    holdRoutes,
    verifyRoutes,
    systemRoutes,
  ]) {
    await app.register(routes, context);
  }
}
