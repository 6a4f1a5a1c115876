import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Bank, TransferOutcome } from '../bank/bank.js';
import { maxMoney } from '../bank/money.js';
import { type MovementKind, requestKind } from '../bank/movement.js';
import { transferManyItems } from '../bank/movement-items.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import type { HttpMetrics } from './http-metrics.js';
import { idFromKey } from './idempotency-key.js';
import { accountView, pageView, transferView, verifyView } from './json-views.js';
import { problemOf } from './problem.js';
import * as schema from './schemas.js';

interface IdRequest {
  Params: { id: string };
}
interface PageRequest {
  Querystring: { limit?: string; cursor?: string };
}
interface KeyedRequest {
  Headers: { 'idempotency-key'?: string };
}

/** The kind of a batch item as it was asked for (one that is not an object counts as a transfer). */
function kindOf(item: unknown): MovementKind {
  return typeof item === 'object' && item !== null ? requestKind(item) : 'transfer';
}

/**
 * OpenAPI links: where an answer's ids lead, for clients and for stateful
 * testing (open an account → deposit, transfer, read, close).
 */
const links = {
  fromAccount: (id: string) => ({
    GetAccount: { operationId: 'getAccount', parameters: { id } },
    Deposit: { operationId: 'deposit', parameters: { id } },
    Withdraw: { operationId: 'withdrawal', parameters: { id } },
    History: { operationId: 'listAccountTransfers', parameters: { id } },
    Close: { operationId: 'closeAccount', parameters: { id } },
    TransferFrom: { operationId: 'transfer', requestBody: { fromId: id } },
    TransferTo: { operationId: 'transfer', requestBody: { toId: id } },
  }),
  toTransfer: { GetTransfer: { operationId: 'getTransfer', parameters: { id: '$response.body#/id' } } },
};

const page = (query: PageRequest['Querystring']) => ({
  ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
});

/**
 * The bank's JSON API. Money-moving POSTs take an Idempotency-Key: it becomes
 * the transfer (or account) id, so a repeated request is answered from the
 * journal with the same status and body, and money moves once.
 */
export function registerApiRoutes(app: FastifyInstance, bank: Bank, metrics: HttpMetrics, databaseUrl: string): void {
  const count = (kind: MovementKind, outcome: TransferOutcome | { error: unknown }) =>
    metrics.transfers.inc({
      kind,
      outcome:
        'transfer' in outcome
          ? outcome.replayed
            ? 'replayed'
            : 'created'
          : outcome.error instanceof RoachbankError
            ? outcome.error.code
            : 'error',
    });

  /** Answers a money movement: 201 with the transfer, the same for a replay (flagged in a header). */
  async function moved(kind: MovementKind, reply: FastifyReply, work: Promise<TransferOutcome>) {
    try {
      const outcome = await work;
      count(kind, outcome);
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(transferView(outcome.transfer));
    } catch (error) {
      count(kind, { error });
      throw error;
    }
  }

  app.post<{ Body: { balance?: string } } & KeyedRequest>(
    '/accounts',
    {
      schema: {
        operationId: 'createAccount',
        summary: 'Open an account',
        tags: ['accounts'],
        headers: schema.idempotencyHeaders,
        body: schema.createAccountBody,
        response: { 201: schema.account, ...schema.errors },
      },
      links: { 201: links.fromAccount('$response.body#/id') },
    },
    async (request, reply) => {
      const id = idFromKey(request.headers['idempotency-key']);
      // The schema lets only digits through; the bank checks the range.
      const balance = request.body?.balance;
      const { account, replayed } = await bank.openAccount({
        ...(id ? { id } : {}),
        ...(balance === undefined ? {} : { balance: BigInt(balance) }),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(accountView(account));
    },
  );

  app.get<PageRequest>(
    '/accounts',
    {
      schema: {
        operationId: 'listAccounts',
        summary: 'List accounts, oldest first',
        tags: ['accounts'],
        querystring: schema.pageQuery,
        response: { 200: schema.page(schema.account), ...schema.errors },
      },
      links: { 200: { NextPage: { operationId: 'listAccounts', parameters: { cursor: '$response.body#/next' } } } },
    },
    async (request) => pageView(await bank.listAccounts(page(request.query)), accountView),
  );

  app.get<IdRequest>(
    '/accounts/:id',
    {
      schema: {
        operationId: 'getAccount',
        summary: 'One account, open or closed',
        tags: ['accounts'],
        params: schema.idParams,
        response: { 200: schema.account, ...schema.errors },
      },
    },
    async (request) => accountView(await bank.getAccount(request.params.id)),
  );

  app.post<IdRequest>(
    '/accounts/:id/close',
    {
      schema: {
        operationId: 'closeAccount',
        summary: 'Close an account whose balance is 0',
        tags: ['accounts'],
        params: schema.idParams,
        response: { 200: schema.account, ...schema.errors },
      },
    },
    async (request) => accountView(await bank.closeAccount(request.params.id)),
  );

  app.get<IdRequest & PageRequest>(
    '/accounts/:id/transfers',
    {
      schema: {
        operationId: 'listAccountTransfers',
        summary: "An account's journal rows, newest first",
        tags: ['accounts'],
        params: schema.idParams,
        querystring: schema.pageQuery,
        response: { 200: schema.page(schema.transfer), ...schema.errors },
      },
      links: {
        200: {
          NextPage: {
            operationId: 'listAccountTransfers',
            parameters: { id: '$request.path.id', cursor: '$response.body#/next' },
          },
        },
      },
    },
    async (request) => pageView(await bank.history(request.params.id, page(request.query)), transferView),
  );

  for (const [path, kind] of [
    ['deposits', 'deposit'],
    ['withdrawals', 'withdrawal'],
  ] as const) {
    app.post<IdRequest & KeyedRequest & { Body: { amount: string } }>(
      `/accounts/:id/${path}`,
      {
        schema: {
          operationId: kind,
          summary: kind === 'deposit' ? 'Put money into an account' : 'Take money out of an account',
          description:
            kind === 'deposit'
              ? `404 when the account does not exist or is closed; 400 when its balance would pass ${maxMoney}.`
              : '404 when the account does not exist or is closed; 409 INSUFFICIENT_FUNDS when its balance is below the amount.',
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
        const options = id ? { id } : {};
        const work =
          kind === 'deposit'
            ? bank.deposit(request.params.id, amount, options)
            : bank.withdraw(request.params.id, amount, options);
        return moved(kind, reply, work);
      },
    );
  }

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
      return moved('transfer', reply, bank.transfer({ fromId, toId, amount, ...(id ? { id } : {}) }));
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
          count(kindOf(items[i]), result.ok ? result.outcome : result);
          if (result.ok)
            return { status: 201, replayed: result.outcome.replayed, transfer: transferView(result.outcome.transfer) };
          const problem = problemOf(result.error, request, databaseUrl);
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
}
