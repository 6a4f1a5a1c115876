import type { FastifyReply } from 'fastify';
import type { Bank, MovementOutcome } from '../../bank/bank.js';
import type { MovementKind } from '../../bank/movement.js';
import { RoachbankError } from '../../errors/roachbank-error.js';
import type { HttpMetrics } from '../http-metrics.js';
import { transferView } from '../json-views.js';

/** What every route plugin of the API is given. */
export interface ApiContext {
  readonly bank: Bank;
  readonly metrics: HttpMetrics;
}

export interface IdRequest {
  Params: { id: string };
}
export interface PageRequest {
  Querystring: { limit?: string; cursor?: string };
}
export interface KeyedRequest {
  Headers: { 'idempotency-key'?: string };
}

/**
 * OpenAPI links: where an answer's ids lead, for clients and for stateful
 * testing (open an account → deposit, transfer, read, close).
 */
export const links = {
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

/** A page request from the query string. */
export const page = (query: PageRequest['Querystring']) => ({
  ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
});

/** Counts a movement's answer in `roachbank_transfers_total{kind,outcome}`. */
export function countMovement(metrics: HttpMetrics, kind: MovementKind, outcome: MovementOutcome | { error: unknown }): void {
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
}

/** Answers a money movement: 201 with the transfer, the same for a replay (flagged in a header). */
export async function moved(metrics: HttpMetrics, kind: MovementKind, reply: FastifyReply, work: Promise<MovementOutcome>) {
  try {
    const outcome = await work;
    countMovement(metrics, kind, outcome);
    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(201).send(transferView(outcome.transfer));
  } catch (error) {
    countMovement(metrics, kind, { error });
    throw error;
  }
}
