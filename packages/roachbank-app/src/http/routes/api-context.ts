import type { FastifyReply } from 'fastify';
import type { Bank, Metadata, MoveAnswer, MovementOutcome, RequestKind } from 'roachbank';
import { RoachbankError } from 'roachbank';
import type { HttpMetrics } from '../http-metrics.js';
import { idFromKey } from '../idempotency-key.js';
import { transferView } from '../json-views.js';
import type { SystemActivity } from '../system-activity.js';

/** What every route plugin of the API is given. */
export interface ApiContext {
  readonly bank: Bank;
  readonly metrics: HttpMetrics;
  readonly activity: SystemActivity;
}

export interface IdRequest {
  Params: { id: string };
}
export interface PageRequest {
  Querystring: { limit?: string; cursor?: string };
}
export interface ReferencePageRequest {
  Querystring: { reference?: string; limit?: string; cursor?: string };
}
export interface AccountListRequest {
  Querystring: ReferencePageRequest['Querystring'] & { order?: 'oldest' | 'newest'; idPrefix?: string };
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
    // A hold of 1 with no destination: placed whenever the account holds anything.
    PlaceHold: { operationId: 'placeHold', requestBody: { fromId: id, amount: '1' } },
    Holds: { operationId: 'listAccountHolds', parameters: { id } },
  }),
  toTransfer: {
    GetTransfer: { operationId: 'getTransfer', parameters: { id: '$response.body#/id' } },
    Reverse: { operationId: 'reverseTransfer', parameters: { id: '$response.body#/id' } },
  },
  toHold: (id: string) => ({
    GetHold: { operationId: 'getHold', parameters: { id } },
    // A post of 1, which any pending hold covers.
    PostHold: { operationId: 'postHold', parameters: { id }, requestBody: { amount: '1' } },
    VoidHold: { operationId: 'voidHold', parameters: { id } },
  }),
};

/**
 * For a route whose body is optional: no body at all is read as `{}` (Fastify would
 * validate the missing body against the object schema and refuse it).
 */
export function emptyBodyAsObject(request: { body: unknown }, _reply: unknown, done: () => void): void {
  request.body ??= {};
  done();
}

/** A body's reference and metadata: the bank reads a part left out as none (or, for a post or reversal, what it settles'). */
export interface AnnotatedBody {
  reference?: string;
  metadata?: Metadata;
}

/**
 * The options of a call that moves part or all of something (a hold's post, a reversal):
 * the id its Idempotency-Key stands for, and the optional amount, reference and metadata of its body.
 */
export function keyedAmount(request: { headers: KeyedRequest['Headers']; body: { amount?: string } & AnnotatedBody }) {
  const id = idFromKey(request.headers['idempotency-key']);
  const { amount } = request.body;
  return {
    ...(id ? { id } : {}),
    ...(amount === undefined ? {} : { amount: BigInt(amount) }),
    reference: request.body.reference,
    metadata: request.body.metadata,
  };
}

/** A page request from the query string. */
export const page = (query: PageRequest['Querystring']) => ({
  ...(query.limit === undefined ? {} : { limit: Number(query.limit) }),
  ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
});

/** Counts a movement's answer in `roachbank_transfers_total{kind,outcome}`. */
export function countMovement(metrics: HttpMetrics, kind: RequestKind, outcome: MoveAnswer | { error: unknown }): void {
  metrics.transfers.inc({
    kind,
    outcome:
      'replayed' in outcome
        ? outcome.replayed
          ? 'replayed'
          : 'created'
        : outcome.error instanceof RoachbankError
          ? outcome.error.code
          : 'error',
  });
}

/** Answers a call that changes money, counted: `status` with its view, the same for a replay (flagged in a header). */
export async function answered<O extends MoveAnswer>(
  metrics: HttpMetrics,
  kind: RequestKind,
  reply: FastifyReply,
  work: Promise<O>,
  view: (outcome: O) => unknown,
  status = 201,
) {
  try {
    const outcome = await work;
    countMovement(metrics, kind, outcome);
    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(status).send(view(outcome));
  } catch (error) {
    countMovement(metrics, kind, { error });
    throw error;
  }
}

/** Answers a money movement: 201 with the transfer, the same for a replay (flagged in a header). */
export function moved(metrics: HttpMetrics, kind: RequestKind, reply: FastifyReply, work: Promise<MovementOutcome>) {
  return answered(metrics, kind, reply, work, (outcome) => transferView(outcome.transfer));
}
