import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type pg from 'pg';
import type { BankOptions, Flavor } from 'roachbank';
import { detectServer, runRead } from 'roachbank';
import { loadBank } from '../flavor/load-bank.js';
import { registerApiRoutes } from './api-routes.js';
import { hasToken } from './bearer-auth.js';
import { createHttpMetrics, type HttpMetrics } from './http-metrics.js';
import { useMethodNotAllowed } from './method-not-allowed.js';
import { codeProblem, problemOf, sendProblem } from './problem.js';
import { jsonValue } from './schemas.js';
import { useStrictJsonBodies } from './strict-json-body.js';
import { moneyRoutes, type SystemActivity, startSystemActivity } from './system-activity.js';
import { validationMessage } from './validation-message.js';

export interface ServerOptions {
  readonly pool: pg.Pool;
  /**
   * @deprecated Not needed: a 503 names where the pool connects (never with its
   * password), from the pool itself. Accepted and ignored.
   */
  readonly databaseUrl?: string;
  readonly flavor?: Flavor;
  /** Group commit of the `pg` flavor (on by default; `false` for one statement per movement). */
  readonly batch?: BankOptions['batch'];
  /** The API token; unset: no authentication (loopback only, `serve` checks). */
  readonly token?: string | undefined;
  /** pino options for the request log; default: no log. */
  readonly logger?: FastifyServerOptions['logger'];
}

// src/http and dist/http are both two levels below the package root.
const uiDir = new URL('../../ui/', import.meta.url);
const uiTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
/** The UI's files, each at /ui/<name>, and its page at /. */
const uiFiles: Record<string, [string, string]> = Object.fromEntries([
  ['/', ['index.html', uiTypes['.html']!]],
  ...readdirSync(uiDir)
    .filter((file) => extname(file) in uiTypes && file !== 'index.html')
    .map((file) => [`/ui/${file}`, [file, uiTypes[extname(file)]!]]),
]);

/** Paths anyone may read: health, the UI's static files and the API reference. */
const isPublic = (url: string) =>
  url === '/healthz' || url === '/' || url.startsWith('/ui/') || url.startsWith('/docs') || url === '/openapi.json';

/**
 * The HTTP server: the bank's JSON API (validated by its JSON schemas, which
 * are also the OpenAPI document at /openapi.json with a reference at /docs),
 * problem+json errors, bearer-token auth, /healthz, Prometheus /metrics and the
 * web UI at /. No SQL here: everything goes through the `Bank`.
 *
 * @example
 * const app = await buildServer({ pool, token: process.env.ROACHBANK_API_TOKEN });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { pool, token } = options;
  const metrics = createHttpMetrics(pool);
  const bank = await loadBank(pool, options.flavor ?? 'pg', {
    onRetry: () => metrics.retries.inc(),
    onAmbiguous: () => metrics.ambiguous.inc(),
    onBatch: (size) => metrics.batchSize.observe(size),
    ...(options.batch === undefined ? {} : { batch: options.batch }),
  });
  const activity = startSystemActivity(metrics, pool);
  const app = newFastify(options.logger);
  app.addHook('onClose', async () => activity.stop());
  await registerDocs(app, token);
  useRequestHooks(app, token, metrics, activity);
  await registerApiRoutes(app, { bank, metrics, activity });
  registerOperationalRoutes(app, pool, metrics);
  return app;
}

/** Fastify as the API wants it: strict bodies and schemas, request ids, 503 while closing. */
function newFastify(logger: ServerOptions['logger']): FastifyInstance {
  return Fastify({
    logger: logger ?? false,
    bodyLimit: 16 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    // Unknown fields are errors, not silently dropped; no type coercion of money. strictTypes off:
    // a batch item has no `type` of its own on purpose (any value, which then fails alone:
    // schemas.ts, batchItem), which Ajv's default strictness would report on every start.
    // verbose: each error carries its schema, whose title names a failed pattern (validation-message.ts).
    // ownProperties: a `properties` rule reads own keys only, so `constructor` is checked where
    // a body names it, not as every object's inherited Object.prototype.constructor.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, strictTypes: false, verbose: true, ownProperties: true },
    },
    schemaErrorFormatter: validationMessage,
  });
}

/** The OpenAPI document (from the routes' schemas) and its reference at /docs. */
async function registerDocs(app: FastifyInstance, token: string | undefined): Promise<void> {
  // The one shared schema (metadata's values refer to it, at any depth); in the document under its own name.
  app.addSchema(jsonValue);
  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      // 3.1: the schemas are JSON Schema 2020-12 as written (type arrays, const, propertyNames).
      openapi: '3.1.0',
      info: {
        title: 'roachbank',
        version: '0.1.0',
        description:
          'Accounts, an append-only journal and idempotent transfers. Money is a decimal string. Errors are application/problem+json with a roachbank `code`. Send `Idempotency-Key` on money-moving POSTs to retry safely.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: token ? [{ bearer: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** Authentication, 405s, JSON-only bodies, closing, request metrics and problem+json errors, for every route. */
function useRequestHooks(app: FastifyInstance, token: string | undefined, metrics: HttpMetrics, activity: SystemActivity): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (!token || isPublic(request.url.split('?')[0]!)) return;
    if (!hasToken(request.headers.authorization, token)) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(reply, codeProblem(request, 'UNAUTHORIZED', 'send Authorization: Bearer <ROACHBANK_API_TOKEN>'));
    }
  });
  useMethodNotAllowed(app);
  // JSON only: a text/plain body is 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  useStrictJsonBodies(app);
  // While closing, answers end their connection, so close() waits for in-flight
  // requests only, not for idle keep-alive sockets.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (moneyRoutes.has(`${request.method} ${route}`)) activity.recordMoneyRequest(reply.elapsedTime);
  });
  app.setErrorHandler(async (error, request, reply) => {
    const problem = problemOf(error, request);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const unknownRoute = Object.assign(new Error(`no route ${request.method} ${request.url.split('?')[0]}`), { statusCode: 404 });
    return sendProblem(reply, problemOf(unknownRoute, request));
  });
}

/** What is not the bank's API: /healthz, /metrics, /openapi.json and the web UI's files. */
function registerOperationalRoutes(app: FastifyInstance, pool: pg.Pool, metrics: HttpMetrics): void {
  app.get('/healthz', { schema: { hide: true } }, async (request, reply) => {
    try {
      // The same check openDatabase makes: a read, retried within the retry budget.
      await runRead(pool, (client) => detectServer(client));
      return { status: 'ok' };
    } catch (error) {
      return sendProblem(reply, problemOf(error, request));
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  for (const [path, [file, type]] of Object.entries(uiFiles)) {
    const body = readFileSync(new URL(file, uiDir));
    app.get(path, { schema: { hide: true } }, async (_, reply) =>
      reply.type(type).header('cache-control', 'no-cache').send(body),
    );
  }
}
