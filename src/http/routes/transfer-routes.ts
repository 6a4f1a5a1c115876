import type { FastifyPluginAsync } from 'fastify';
import { maxMoney } from '../../bank/money.js';
import { type MovementKind, requestKind } from '../../bank/movement.js';
import { transferManyItems } from '../../bank/movement-items.js';
import { idFromKey } from '../idempotency-key.js';
import { transferView } from '../json-views.js';
import { problemOf } from '../problem.js';
import * as schema from '../schemas.js';
import { type ApiContext, countMovement, type IdRequest, type KeyedRequest, links, moved } from './api-context.js';

/** The kind of a batch item as it was asked for (one that is not an object counts as a transfer). */
function kindOf(item: unknown): MovementKind {
  return typeof item === 'object' && item !== null ? requestKind(item) : 'transfer';
}

/** Transfers: one (once per Idempotency-Key), a batch of movements in order, a journal row by id.
 * Longer than 60 lines on purpose: a list of route declarations, each a schema and
 * a short handler, read top to bottom like the API reference they become.
 */
export const transferRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank, metrics }) => {
  app.post<KeyedRequest & { Body: { fromId: string; toId: string; amount: string } }>(
    '/transfers',
    {
      schema: {
        operationId: 'transfer',
        summary: 'Move money between two accounts, once per Idempotency-Key',
        description: `400 when both ids are the same account, or when the destination balance would pass ${maxMoney}; 404 when either account does not exist or is closed; 409 INSUFFICIENT_FUNDS when the source balance is below the amount.`,
        tags: ['money'],
        headers: schema.idempotencyHeaders,
        body: schema.transferBody,
        response: { 201: schema.transfer, ...schema.errors },
      },
      links: {
        201: {
          ...links.toTransfer,
          GetSource: { operationId: 'getAccount', parameters: { id: '$response.body#/fromId' } },
          GetDestination: { operationId: 'getAccount', parameters: { id: '$response.body#/toId' } },
        },
      },
    },
    async (request, reply) => {
      const id = idFromKey(request.headers['idempotency-key']);
      const { fromId, toId } = request.body;
      const amount = BigInt(request.body.amount);
      return moved(metrics, 'transfer', reply, bank.transfer({ fromId, toId, amount, ...(id ? { id } : {}) }));
    },
  );

  app.post<{ Body: { items: unknown[] } }>(
    '/transfers/batch',
    {
      // 1,000 items of three UUIDs and an amount each.
      bodyLimit: 512 * 1024,
      schema: {
        operationId: 'transferBatch',
        summary: 'Move money many times in one request, in order, each item once per id',
        description:
          'Every item is a transfer, deposit or withdrawal with its own id (its idempotency key): sending the request again answers every item from the journal and moves nothing twice. Items run as if one after another in the order given. The answer is 200 with one result per item, each with the status that item would get alone; a malformed item fails alone. Up to 1,000 items.',
        tags: ['money'],
        body: schema.batchBody,
        response: { 200: schema.batchResult, ...schema.errors },
      },
    },
    async (request) => {
      const { items } = request.body;
      const results = await transferManyItems(bank, items, { requireId: true });
      return {
        items: results.map((result, i) => {
          countMovement(metrics, kindOf(items[i]), result.ok ? result.outcome : result);
          if (result.ok)
            return { status: 201, replayed: result.outcome.replayed, transfer: transferView(result.outcome.transfer) };
          const problem = problemOf(result.error, request);
          return { status: problem.status, problem };
        }),
      };
    },
  );

  app.get<IdRequest>(
    '/transfers/:id',
    {
      schema: {
        operationId: 'getTransfer',
        summary: 'A journal row by id',
        tags: ['money'],
        params: schema.idParams,
        response: { 200: schema.transfer, ...schema.errors },
      },
    },
    async (request) => transferView(await bank.getTransfer(request.params.id)),
  );
};
