import type { FastifyPluginAsync } from 'fastify';
import { askedAccounts } from 'roachbank';
import { idFromKey } from '../idempotency-key.js';
import { accountView, pageView, transferView } from '../json-views.js';
import * as schema from '../schemas.js';
import {
  type AccountListRequest,
  type AnnotatedBody,
  type ApiContext,
  type IdRequest,
  type KeyedRequest,
  links,
  type PageRequest,
  page,
} from './api-context.js';

/** Accounts: open (once per Idempotency-Key), list, read, close, and each one's history.
 * Longer than 60 lines on purpose: a list of route declarations, each a schema and
 * a short handler, read top to bottom like the API reference they become.
 */
export const accountRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank }) => {
  app.post<{ Body: { balance?: string; currency?: string; creditLimit?: string } & AnnotatedBody } & KeyedRequest>(
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
      const { balance, currency, creditLimit, reference, metadata } = request.body ?? {};
      const { account, replayed } = await bank.openAccount({
        ...(id ? { id } : {}),
        ...(balance === undefined ? {} : { balance: BigInt(balance) }),
        ...(currency === undefined ? {} : { currency }),
        ...(creditLimit === undefined ? {} : { creditLimit: BigInt(creditLimit) }),
        reference,
        metadata,
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(accountView(account));
    },
  );

  app.get<AccountListRequest>(
    '/accounts',
    {
      schema: {
        operationId: 'listAccounts',
        summary: 'List accounts, oldest or newest first; or find them by reference or by the start of their id',
        description:
          'At most one of `order`, `reference` and `idPrefix`: 400 when two are given. Each answer is one index range, however large the book.',
        tags: ['accounts'],
        querystring: schema.accountListQuery,
        response: { 200: schema.page(schema.account), ...schema.errors },
      },
      links: {
        200: {
          NextPage: { operationId: 'listAccounts', parameters: { cursor: '$response.body#/next' } },
          // Two accounts of the page: a transfer of 1 between them, either way.
          TransferOnPage: {
            operationId: 'transfer',
            requestBody: { fromId: '$response.body#/items/0/id', toId: '$response.body#/items/1/id', amount: '1' },
          },
          TransferBackOnPage: {
            operationId: 'transfer',
            requestBody: { fromId: '$response.body#/items/1/id', toId: '$response.body#/items/0/id', amount: '1' },
          },
          // A hold of 1 from the first account of the page for the second, to be posted or voided.
          HoldOnPage: {
            operationId: 'placeHold',
            requestBody: { fromId: '$response.body#/items/0/id', toId: '$response.body#/items/1/id', amount: '1' },
          },
        },
      },
    },
    async (request) => {
      const { reference, idPrefix, order } = request.query;
      const found = await askedAccounts(bank, { order, reference, idPrefix, page: page(request.query) });
      return pageView(found, accountView);
    },
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

  app.put<IdRequest & { Body: { creditLimit: string } }>(
    '/accounts/:id/credit-limit',
    {
      schema: {
        operationId: 'setCreditLimit',
        summary: "Set how far below 0 an open account's available balance may go",
        description:
          'Lowering it below what the account already owes is CREDIT_LIMIT_IN_USE; the same limit again changes nothing.',
        tags: ['accounts'],
        params: schema.idParams,
        body: schema.creditLimitBody,
        response: { 200: schema.account, ...schema.errors },
      },
    },
    async (request) => accountView(await bank.setCreditLimit(request.params.id, BigInt(request.body.creditLimit))),
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
};
