import type { FastifyPluginAsync } from 'fastify';
import { idFromKey } from '../idempotency-key.js';
import { holdView, pageView } from '../json-views.js';
import * as schema from '../schemas.js';
import {
  type AnnotatedBody,
  type ApiContext,
  answered,
  emptyBodyAsObject,
  type IdRequest,
  type KeyedRequest,
  keyedAmount,
  links,
  moved,
  type PageRequest,
  page,
} from './api-context.js';

/** Holds: place one (once per Idempotency-Key), read it, post or void it, and list an account's.
 * Longer than 60 lines on purpose: a list of route declarations, each a schema and
 * a short handler, read top to bottom like the API reference they become.
 */
export const holdRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank, metrics }) => {
  app.post<KeyedRequest & { Body: { fromId: string; toId?: string; amount: string; expiresInMs?: number } & AnnotatedBody }>(
    '/holds',
    {
      schema: {
        operationId: 'placeHold',
        summary: "Reserve money of an account for a later post, once per Idempotency-Key (the key is the hold's id)",
        description:
          '400 when both ids are the same account; 409 INSUFFICIENT_FUNDS when the amount is more than the source has available (balance − held); 404 when an account does not exist or is closed; 409 IDEMPOTENCY_CONFLICT when the key was used for another hold.',
        tags: ['holds'],
        headers: schema.idempotencyHeaders,
        body: schema.holdBody,
        response: { 201: schema.hold, ...schema.errors },
      },
      links: { 201: links.toHold('$response.body#/id') },
    },
    async (request, reply) => {
      const id = idFromKey(request.headers['idempotency-key']);
      const { fromId, toId, expiresInMs } = request.body;
      const work = bank.hold({
        fromId,
        toId: toId ?? null,
        amount: BigInt(request.body.amount),
        expiresInMs,
        ...(id ? { id } : {}),
        reference: request.body.reference,
        metadata: request.body.metadata,
      });
      return answered(metrics, 'hold', reply, work, (outcome) => holdView(outcome.hold));
    },
  );

  app.get<IdRequest>(
    '/holds/:id',
    {
      schema: {
        operationId: 'getHold',
        summary: 'A hold by id (expired from the moment its time passed)',
        tags: ['holds'],
        params: schema.idParams,
        response: { 200: schema.hold, ...schema.errors },
      },
      links: { 200: links.toHold('$response.body#/id') },
    },
    async (request) => holdView(await bank.getHold(request.params.id)),
  );

  app.post<IdRequest & KeyedRequest & { Body: { amount?: string } & AnnotatedBody }>(
    '/holds/:id/post',
    {
      schema: {
        operationId: 'postHold',
        summary: 'Move what a hold reserved (all of it, or less: the rest is released) as one journal row',
        description:
          'Posting again with the same amount answers the same post. 409 HOLD_NOT_PENDING when it was voided or posted for another amount, HOLD_EXPIRED when its time ran out, POST_EXCEEDS_HOLD for more than it reserved; 404 HOLD_NOT_FOUND. The Idempotency-Key, if sent, is the journal row id.',
        tags: ['holds'],
        params: schema.idParams,
        headers: schema.idempotencyHeaders,
        body: schema.optionalAmountBody,
        response: { 201: schema.transfer, ...schema.errors },
      },
      preValidation: emptyBodyAsObject,
      links: { 201: links.toTransfer },
    },
    async (request, reply) => {
      const options = keyedAmount(request);
      return moved(metrics, 'post', reply, bank.postHold(request.params.id, options));
    },
  );

  app.post<IdRequest>(
    '/holds/:id/void',
    {
      schema: {
        operationId: 'voidHold',
        summary: 'Release a pending hold; voiding it again answers the same',
        description: '409 HOLD_NOT_PENDING when it was posted, HOLD_EXPIRED when its time ran out; 404 HOLD_NOT_FOUND.',
        tags: ['holds'],
        params: schema.idParams,
        response: { 200: schema.hold, ...schema.errors },
      },
      links: { 200: { GetHold: { operationId: 'getHold', parameters: { id: '$response.body#/id' } } } },
    },
    async (request, reply) =>
      answered(metrics, 'void', reply, bank.voidHold(request.params.id), (outcome) => holdView(outcome.hold), 200),
  );

  app.get<IdRequest & PageRequest>(
    '/accounts/:id/holds',
    {
      schema: {
        operationId: 'listAccountHolds',
        summary: "An account's holds, newest first",
        tags: ['holds'],
        params: schema.idParams,
        querystring: schema.pageQuery,
        response: { 200: schema.page(schema.hold), ...schema.errors },
      },
      links: {
        200: {
          NextPage: { operationId: 'listAccountHolds', parameters: { id: '$request.path.id', cursor: '$response.body#/next' } },
        },
      },
    },
    async (request) => pageView(await bank.holds(request.params.id, page(request.query)), holdView),
  );
};
