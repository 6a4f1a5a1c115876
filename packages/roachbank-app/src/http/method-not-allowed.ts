import type { FastifyInstance } from 'fastify';
import { problemOf, sendProblem } from './problem.js';

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * A request whose path exists with other methods is 405 Method Not Allowed
 * with an `Allow` header listing them (RFC 9110 §15.5.6), not 404: the
 * resource is there, the method is wrong. A path that is a route of its own
 * (POST /transfers/batch) counts as that route for every method, even where
 * a pattern of another method would take it (GET /transfers/:id), so
 * GET /transfers/batch is 405, not a 400 for an id that is not a UUID.
 * It answers in `onRequest`, before any body is parsed. Register it after
 * authentication.
 *
 * @example
 * useMethodNotAllowed(app); // after the auth hook
 */
export function useMethodNotAllowed(app: FastifyInstance): void {
  // Paths with no parameter, and their methods (in the order of `methods`): routes added after this call.
  const literal = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    if (/[:*]/.test(route.url)) return;
    const routed = new Set([...(literal.get(route.url) ?? []), ...[route.method].flat()]);
    literal.set(
      route.url,
      methods.filter((method) => routed.has(method)),
    );
  });
  app.addHook('onRequest', async (request, reply) => {
    const url = request.url.split('?')[0] ?? '';
    const byPattern = request.is404 || /[:*]/.test(request.routeOptions.url ?? '');
    const allow = !byPattern
      ? []
      : (literal.get(url) ?? (request.is404 ? methods.filter((method) => app.findRoute({ method, url }) !== null) : []));
    if (allow.length === 0) return;
    const wrongMethod = Object.assign(new Error(`${request.method} is not allowed on ${url}; allowed: ${allow.join(', ')}`), {
      statusCode: 405,
    });
    return sendProblem(reply.header('allow', allow.join(', ')), problemOf(wrongMethod, request));
  });
}
