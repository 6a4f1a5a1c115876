import type { FastifyPluginAsync } from 'fastify';
import { verifyView } from '../json-views.js';
import * as schema from '../schemas.js';
import type { ApiContext } from './api-context.js';

/** The bank's invariants, checked on request; the last report is kept for the console's panel. */
export const verifyRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank, activity }) => {
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
    async () => {
      const report = await bank.verify();
      activity.recordVerify(report);
      return verifyView(report);
    },
  );
};
