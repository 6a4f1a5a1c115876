import type { FastifyPluginAsync } from 'fastify';
import { verifyView } from '../json-views.js';
import * as schema from '../schemas.js';
import type { ApiContext } from './api-context.js';

/** What the server is doing, for the console's live panel: JSON, from memory. */
export const systemRoutes: FastifyPluginAsync<ApiContext> = async (app, { activity }) => {
  app.get(
    '/system/activity',
    {
      schema: {
        operationId: 'getSystemActivity',
        summary:
          'Movements per second, latency, retries, ambiguous commits, batch sizes and pool connections over the last minutes',
        description:
          'Sampled by this server every few seconds and kept in its memory: it reads no database, so it answers while the database is down. Poll it; each answer holds every sample still kept.',
        tags: ['bank'],
        response: { 200: schema.systemActivity, ...schema.errors },
      },
    },
    async () => {
      const { intervalSeconds, samples, lastVerify } = activity.snapshot();
      return {
        intervalSeconds,
        samples,
        lastVerify: lastVerify && { at: lastVerify.at, report: verifyView(lastVerify.report) },
      };
    },
  );
};
