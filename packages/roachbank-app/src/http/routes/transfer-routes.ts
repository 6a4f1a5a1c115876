import type { FastifyPluginAsync } from 'fastify';
import { maxMoney, type RequestKind, requestKind, transferManyItems } from 'roachbank';
import { idFromKey } from '../idempotency-key.js';
import { holdView, pageView, transferDetailView, transferView } from '../json-views.js';
import { problemOf } from '../problem.js';
import * as schema from '../schemas.js';
import {
  type AnnotatedBody,
  type ApiContext,
  countMovement,
  emptyBodyAsObject,
  type IdRequest,
  type KeyedRequest,
  keyedAmount,
  links,
  moved,
  page,
  type ReferencePageRequest,
} from './api-context.js';

/** The kind of a batch item as it was asked for (one that is not an object counts as a transfer). */
function kindOf(item: unknown): RequestKind {
  if (typeof item !== 'object' || item === null) return 'transfer';
  return (item as { kind?: unknown }).kind === 'hold' ? 'hold' : requestKind(item);
}

/** Transfers: one (once per Idempotency-Key), a batch of movements in order, a journal row by id.
 * Longer than 60 lines on purpose: a list of route declarations, each a schema and
 * a short handler, read top to bottom like the API reference they become.
 */
export const transferRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank, metrics }) => {
  app.post<KeyedRequest & { Body: { fromId: string; toId: string; amount: string } & AnnotatedBody }>(
    '/transfers',
    {
      schema: {
        operationId: 'transfer',
        summary: 'Move money between two accounts, once per Idempotency-Key',
        description: `400 when both ids are the same account; 404 when either account does not exist or is closed; 409 INSUFFICIENT_FUNDS when the source has less available (balance − held) than the amount, BALANCE_LIMIT when the destination balance would pass ${maxMoney}.`,
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
      const { fromId, toId, reference, metadata } = request.body;
      const amount = BigInt(request.body.amount);
      const movement = { fromId, toId, amount, ...(id ? { id } : {}), reference, metadata };
      return moved(metrics, 'transfer', reply, bank.transfer(movement));
    },
  );

  app.post<{ Body: { items: unknown[]; atomic?: boolean } }>(
    '/transfers/batch',
    {
      // 1,000 items of three UUIDs, an amount, a reference and up to 4 KiB of metadata each.
      bodyLimit: 6 * 1024 * 1024,
      schema: {
        operationId: 'transferBatch',
        summary: 'Move money many times in one request, in order, each item once per id',
        description:
          'Every item is a transfer, deposit, withdrawal or hold with its own id (its idempotency key): sending the request again answers every item from the journal and moves nothing twice. Items run as if one after another in the order given. The answer is 200 with one result per item, each with the status that item would get alone; a malformed item fails alone. With atomic, every item or none in one commit. Up to 1,000 items.',
        tags: ['money'],
        body: schema.batchBody,
        response: { 200: schema.batchResult, ...schema.errors },
      },
    },
    async (request) => {
      const { items, atomic } = request.body;
      const results = await transferManyItems(bank, items, { requireId: true, atomic: atomic === true });
      return {
        items: results.map((result, i) => {
          countMovement(metrics, kindOf(items[i]), result.ok ? result.outcome : result);
          if (result.ok) {
            const { outcome } = result;
            const view = 'hold' in outcome ? { hold: holdView(outcome.hold) } : { transfer: transferView(outcome.transfer) };
            return { status: 201, replayed: outcome.replayed, ...view };
          }
          const problem = problemOf(result.error, request);
          return { status: problem.status, problem };
        }),
      };
    },
  );

  app.get<ReferencePageRequest>(
    '/transfers',
    {
      schema: {
        operationId: 'findTransfers',
        summary: 'The journal rows written with a reference, oldest first',
        description:
          'One range of an index on the reference, however long the journal. A hold’s post and a reversal carry the reference of what they settle unless they were given their own.',
        tags: ['money'],
        querystring: schema.requiredReferencePageQuery,
        response: { 200: schema.page(schema.transfer), ...schema.errors },
      },
      links: {
        200: {
          NextPage: {
            operationId: 'findTransfers',
            parameters: { reference: '$request.query.reference', cursor: '$response.body#/next' },
          },
        },
      },
    },
    async (request) => {
      const reference = request.query.reference!;
      return pageView(await bank.findTransfers({ reference, page: page(request.query) }), transferView);
    },
  );

  app.get<IdRequest>(
    '/transfers/:id',
    {
      schema: {
        operationId: 'getTransfer',
        summary: 'A journal row by id, with how much of it has been reversed',
        tags: ['money'],
        params: schema.idParams,
        response: { 200: schema.transferDetail, ...schema.errors },
      },
      links: { 200: { Reverse: { operationId: 'reverseTransfer', parameters: { id: '$response.body#/id' } } } },
    },
    async (request) => transferDetailView(await bank.getTransfer(request.params.id)),
  );

  app.post<IdRequest & KeyedRequest & { Body: { amount?: string } & AnnotatedBody }>(
    '/transfers/:id/reversals',
    {
      schema: {
        operationId: 'reverseTransfer',
        summary: 'Move a journal row’s money back (what is left of it, or less), once per Idempotency-Key',
        description:
          'A new row from where the money went to where it came from, naming the one it reverses: the reversal of a deposit is a withdrawal, of a withdrawal a deposit. 409 REVERSAL_EXCEEDS_ORIGINAL when the reversals would add up to more than the row moved, INSUFFICIENT_FUNDS when the destination no longer has it available; 404 TRANSFER_NOT_FOUND.',
        tags: ['money'],
        params: schema.idParams,
        headers: schema.idempotencyHeaders,
        body: schema.optionalAmountBody,
        response: { 201: schema.transfer, ...schema.errors },
      },
      preValidation: emptyBodyAsObject,
      links: {
        201: { ...links.toTransfer, GetOriginal: { operationId: 'getTransfer', parameters: { id: '$request.path.id' } } },
      },
    },
    async (request, reply) => {
      const options = keyedAmount(request);
      return moved(metrics, 'reversal', reply, bank.reverse(request.params.id, options));
    },
  );
};
