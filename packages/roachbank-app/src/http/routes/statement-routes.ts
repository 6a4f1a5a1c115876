import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { RoachbankError, statementCsv, statementCsvColumns } from 'roachbank';
import { balanceAtView, statementView } from '../json-views.js';
import * as schema from '../schemas.js';
import { type ApiContext, type IdRequest, page } from './api-context.js';

interface StatementRequest extends IdRequest {
  Querystring: { from: string; to: string; limit?: string; cursor?: string };
}

/** An account's balance at a moment and its statement for a period, from its journal's running balances. */
export const statementRoutes: FastifyPluginAsync<ApiContext> = async (app, { bank }) => {
  app.get<IdRequest & { Querystring: { at: string } }>(
    '/accounts/:id/balance',
    {
      schema: {
        operationId: 'getBalanceAt',
        summary: "An account's balance at a moment: after its last journal row at or before `at`",
        description: 'One look-up per index side, however long the history. 400 for a time that names no day (2026-02-30).',
        tags: ['accounts'],
        params: schema.idParams,
        querystring: schema.balanceAtQuery,
        response: { 200: schema.balanceAt, ...schema.errors },
      },
    },
    async (request) => balanceAtView(await bank.balanceAt(request.params.id, request.query.at)),
  );

  app.get<StatementRequest>(
    '/accounts/:id/statement',
    {
      schema: {
        operationId: 'getStatement',
        summary: "An account's statement for [from, to): opening balance, lines with the balance after each, closing balance",
        description:
          'JSON: the lines a page at a time (limit, cursor). With `Accept: text/csv`: the whole period as CSV (an opening row, ' +
          'the lines, a closing row), without limit or cursor. 400 when from is after to, or for a time that names no day.',
        tags: ['accounts'],
        params: schema.idParams,
        querystring: schema.statementQuery,
        response: {
          200: {
            description: 'the statement',
            content: {
              'application/json': { schema: schema.statement },
              'text/csv': {
                schema: {
                  type: 'string',
                  description: `a header row (${statementCsvColumns.join(',')}), an opening row, the lines, a closing row`,
                },
              },
            },
          },
          ...schema.errors,
        },
      },
      links: {
        200: {
          NextPage: {
            operationId: 'getStatement',
            parameters: {
              id: '$request.path.id',
              from: '$request.query.from',
              to: '$request.query.to',
              cursor: '$response.body#/lines/next',
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { from, to, limit, cursor } = request.query;
      if (!/\btext\/csv\b/i.test(request.headers.accept ?? '')) {
        return statementView(await bank.statement(id, { from, to, page: page({ limit, cursor }) }));
      }
      if (limit !== undefined || cursor !== undefined) {
        throw new RoachbankError(
          'INVALID_ARGUMENT',
          'a CSV statement is the whole period: limit and cursor are for its JSON pages',
        );
      }
      // The first chunk is read before the answer starts, so that a refusal (no such account,
      // a bad period) is a problem response and not a cut CSV.
      const chunks = statementCsv(bank, id, { from, to });
      const first = await chunks.next();
      async function* rest() {
        if (!first.done) yield first.value;
        yield* chunks;
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="statement-${id}.csv"`)
        .send(Readable.from(rest()));
    },
  );
};
