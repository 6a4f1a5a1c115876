import type { FastifyPluginAsync } from 'fastify';
import { maxMoney } from 'roachbank';
import { idFromKey } from '../idempotency-key.js';
import * as schema from '../schemas.js';
import { type AnnotatedBody, type ApiContext, type IdRequest, type KeyedRequest, links, moved } from './api-context.js';

/** Money into and out of one account: deposits and withdrawals, once per Idempotency-Key. */
export const accountMoneyRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank, metrics }) => {
  for (const [path, kind] of [
    ['deposits', 'deposit'],
    ['withdrawals', 'withdrawal'],
  ] as const) {
    app.post<IdRequest & KeyedRequest & { Body: { amount: string } & AnnotatedBody }>(
      `/accounts/:id/${path}`,
      {
        schema: {
          operationId: kind,
          summary: kind === 'deposit' ? 'Put money into an account' : 'Take money out of an account',
          description:
            kind === 'deposit'
              ? `404 when the account does not exist or is closed; 409 BALANCE_LIMIT when its balance would pass ${maxMoney}.`
              : '404 when the account does not exist or is closed; 409 INSUFFICIENT_FUNDS when it has less available (balance − held) than the amount.',
          tags: ['money'],
          params: schema.idParams,
          headers: schema.idempotencyHeaders,
          body: schema.amountBody,
          response: { 201: schema.transfer, ...schema.errors },
        },
        links: { 201: { ...links.toTransfer, ...links.fromAccount('$request.path.id') } },
      },
      async (request, reply) => {
        const id = idFromKey(request.headers['idempotency-key']);
        const amount = BigInt(request.body.amount);
        const { reference, metadata } = request.body;
        const options = { ...(id ? { id } : {}), reference, metadata };
        const work =
          kind === 'deposit'
            ? bank.deposit(request.params.id, amount, options)
            : bank.withdraw(request.params.id, amount, options);
        return moved(metrics, kind, reply, work);
      },
    );
  }
};
