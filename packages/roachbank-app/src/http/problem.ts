import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, errorCatalogue, RoachbankError } from 'roachbank';

/** RFC 9457 problem details with roachbank's error code. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly instance: string;
}

// The 4xx statuses Fastify itself answers with, and their codes.
const httpCodes: Readonly<Record<number, ErrorCode>> = { 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED' };

function problem(request: FastifyRequest, status: number, code: ErrorCode, detail: string): Problem {
  return {
    type: `urn:roachbank:problem:${code}`,
    title: errorCatalogue[code].title,
    status,
    detail,
    code,
    instance: request.url,
  };
}

/**
 * Any error of a request as a problem: roachbank's codes keep their status
 * (DESIGN §3); bad JSON, schema violations and oversized bodies are 4xx
 * INVALID_ARGUMENT; anything else is 500 with the request id and no internals.
 * A database that cannot be reached arrives here as DATABASE_UNAVAILABLE (503):
 * the bank and the db layer say so themselves (`describedFailure`).
 */
export function problemOf(error: unknown, request: FastifyRequest): Problem {
  if (error instanceof RoachbankError) {
    const entry = errorCatalogue[error.code];
    return problem(request, (error as { statusCode?: number }).statusCode ?? entry.httpStatus, error.code, error.message);
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return problem(request, 400, 'INVALID_ARGUMENT', fastifyError.message ?? 'invalid request');
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return problem(request, 413, 'INVALID_ARGUMENT', 'the request body is larger than 16 KiB');
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return problem(request, status, httpCodes[status] ?? 'INVALID_ARGUMENT', fastifyError.message ?? 'bad request');
  }
  return problem(request, 500, 'INTERNAL', `internal error; quote request id ${request.id}`);
}

/** Sends a problem as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json').send(body);
}

export function codeProblem(request: FastifyRequest, code: ErrorCode, detail: string): Problem {
  return problemOf(new RoachbankError(code, detail), request);
}
