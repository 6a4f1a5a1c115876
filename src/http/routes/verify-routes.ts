import type { FastifyPluginAsync } from 'fastify';
import { verifyView } from '../json-views.js';
import * as schema from '../schemas.js';
import type { ApiContext } from './api-context.js';

/** The bank's invariants, checked on request. */
export const verifyRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank }) => {
  app.get(
    '/verify',
    {
      schema: {
        operationId: 'verify',
        summary: "Check the bank's invariants",
        tags: ['bank'],
        response: { 200: schema.verifyReport, ...schema.errors },
      },
    },
    async () => verifyView(await bank.verify()),
  );
};
