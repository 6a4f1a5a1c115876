import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Bank, TransferOutcome } from '../bank/bank.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { HttpMetrics } from './http-metrics.js';
import { idFromKey } from './idempotency-key.js';
import { accountView, pageView, transferView, verifyView } from './json-views.js';
import * as schema from './schemas.js';

type Kind = 'transfer' | 'deposit' | 'withdrawal';
interface IdRequest {
  Params: { id: string };
}
interface PageRequest {
  Querystring: { limit?: string; cursor?: string };
}
interface KeyedRequest {
  Headers: { 'idempotency-key'?: string };
}

const page = (query: PageRequest['Querystring']) => ({
  ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
});

/**
 * The bank's JSON API. Money-moving POSTs take an Idempotency-Key: it becomes
 * the transfer (or account) id, so a repeated request is answered from the
 * journal with the same status and body, and money moves once.
 */
export function registerApiRoutes(app: FastifyInstance, bank: Bank, metrics: HttpMetrics): void {
  /** Answers a money movement: 201 with the transfer, the same for a replay (flagged in a header). */
  async function moved(kind: Kind, reply: FastifyReply, work: Promise<TransferOutcome>) {
    try {
      const { transfer, replayed } = await work;
      metrics.transfers.inc({ kind, outcome: replayed ? 'replayed' : 'created' });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(transferView(transfer));
    } catch (error) {
      metrics.transfers.inc({ kind, outcome: error instanceof RoachbankError ? error.code : 'error' });
      throw error;
    }
  }

  app.post<{ Body: { balance?: string } } & KeyedRequest>(
    '/accounts',
    {
      schema: {
        summary: 'Open an account',
        tags: ['accounts'],
        headers: schema.idempotencyHeaders,
        body: schema.createAccountBody,
        response: { 201: schema.account, ...schema.errors },
      },
    },
    async (request, reply) => {
      const id = idFromKey(request.headers['idempotency-key']);
      // The schema lets only digits through; the bank checks the range.
      const balance = request.body?.balance;
      const account = await bank.createAccount({ ...(id ? { id } : {}), ...(balance === undefined ? {} : { balance: BigInt(balance) }) });
      return reply.code(201).send(accountView(account));
    },
  );

  app.get<PageRequest>(
    '/accounts',
    { schema: { summary: 'List accounts, oldest first', tags: ['accounts'], querystring: schema.pageQuery, response: { 200: schema.page(schema.account), ...schema.errors } } },
    async (request) => pageView(await bank.listAccounts(page(request.query)), accountView),
  );

  app.get<IdRequest>(
    '/accounts/:id',
    { schema: { summary: 'One account, open or closed', tags: ['accounts'], params: schema.idParams, response: { 200: schema.account, ...schema.errors } } },
    async (request) => accountView(await bank.getAccount(request.params.id)),
  );

  app.post<IdRequest>(
    '/accounts/:id/close',
    { schema: { summary: 'Close an account whose balance is 0', tags: ['accounts'], params: schema.idParams, response: { 200: schema.account, ...schema.errors } } },
    async (request) => accountView(await bank.closeAccount(request.params.id)),
  );

  app.get<IdRequest & PageRequest>(
    '/accounts/:id/transfers',
    {
      schema: {
        summary: "An account's journal rows, newest first",
        tags: ['accounts'],
        params: schema.idParams,
        querystring: schema.pageQuery,
        response: { 200: schema.page(schema.transfer), ...schema.errors },
      },
    },
    async (request) => pageView(await bank.history(request.params.id, page(request.query)), transferView),
  );

  for (const [path, kind] of [['deposits', 'deposit'], ['withdrawals', 'withdrawal']] as const) {
    app.post<IdRequest & KeyedRequest & { Body: { amount: string } }>(
      `/accounts/:id/${path}`,
      {
        schema: {
          summary: kind === 'deposit' ? 'Put money into an account' : 'Take money out of an account',
          tags: ['money'],
          params: schema.idParams,
          headers: schema.idempotencyHeaders,
          body: schema.amountBody,
          response: { 201: schema.transfer, ...schema.errors },
        },
      },
      async (request, reply) => {
        const id = idFromKey(request.headers['idempotency-key']);
        const amount = BigInt(request.body.amount);
        const options = id ? { id } : {};
        const work = kind === 'deposit' ? bank.deposit(request.params.id, amount, options) : bank.withdraw(request.params.id, amount, options);
        return moved(kind, reply, work);
      },
    );
  }

  app.post<KeyedRequest & { Body: { fromId: string; toId: string; amount: string } }>(
    '/transfers',
    {
      schema: {
        summary: 'Move money between two accounts, once per Idempotency-Key',
        tags: ['money'],
        headers: schema.idempotencyHeaders,
        body: schema.transferBody,
        response: { 201: schema.transfer, ...schema.errors },
      },
    },
    async (request, reply) => {
      const id = idFromKey(request.headers['idempotency-key']);
      const { fromId, toId } = request.body;
      const amount = BigInt(request.body.amount);
      return moved('transfer', reply, bank.transfer({ fromId, toId, amount, ...(id ? { id } : {}) }));
    },
  );

  app.get<IdRequest>(
    '/transfers/:id',
    { schema: { summary: 'A journal row by id', tags: ['money'], params: schema.idParams, response: { 200: schema.transfer, ...schema.errors } } },
    async (request) => transferView(await bank.getTransfer(request.params.id)),
  );

  app.get(
    '/verify',
    { schema: { summary: "Check the bank's invariants", tags: ['bank'], response: { ...schema.errors } } },
    async () => verifyView(await bank.verify()),
  );
}
