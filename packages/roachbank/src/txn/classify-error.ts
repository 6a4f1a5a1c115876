/**
 * How the retry core treats an error:
 * - `retryable`: the transaction was rolled back by the server and may simply run again
 *   (40001 serialization failure, incl. CockroachDB's "restart transaction"; 40P01 deadlock);
 * - `connection`: the connection is gone or was never made; what happened to an open
 *   transaction depends on whether COMMIT had been sent;
 * - `ambiguous`: the server itself says the outcome is unknown (40003);
 * - `fatal`: anything else, including the application's own errors.
 */
export type ErrorClass = 'retryable' | 'connection' | 'ambiguous' | 'fatal';

import { ConnectionLostError } from './connection-lost-error.js';

const retryableStates = new Set(['40001', '40P01']);

// 57P01 admin shutdown / pg_terminate_backend, 57P02 crash shutdown, 57P03 starting up,
// 25P03 idle-in-transaction timeout (sent as FATAL, the server then closes the socket).
const connectionStates = new Set(['57P01', '57P02', '57P03', '25P03']);

/**
 * Every SQLSTATE with which a server refuses a session or ends it, in words: each is
 * DATABASE_UNAVAILABLE on every surface (`describeConnectionError`: 503, exit 5), never
 * an internal error. 55000 counts only when it ends the session (severity FATAL, as at
 * connect): mid-statement it means other things. Tested each on the real server
 * (test/database-refusals.test.ts).
 */
export const refusedSessionStates: Readonly<Record<string, string>> = {
  // PostgreSQL: ALTER DATABASE … ALLOW_CONNECTIONS false, or a database being dropped.
  '55000': 'the database is not accepting connections',
  // PostgreSQL: fast shutdown or pg_terminate_backend. CockroachDB: a draining node,
  // "server is not accepting clients" (pkg/sql/pgwire/server.go, ErrDraining, sent as AdminShutdown).
  '57P01': 'the server ended the session (shutting down, draining, or terminated by an administrator)',
  '57P02': 'the server is restarting after a crash',
  '57P03': 'the server is starting up or shutting down',
  '53300': 'the server has no free connection slot (too many clients for the server, the role or the database)',
  '3D000': 'the database does not exist',
};

// Socket-level failures that a new connection may not meet again.
const transientSocketCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

// node-postgres reports a dead socket with plain Errors that carry no code.
const connectionMessages = [
  'Connection terminated',
  'not queryable',
  'timeout exceeded when trying to connect',
  'Connection ended unexpectedly',
  'read ECONNRESET',
  // query_timeout: no answer in time; the client is unusable after it (the query may still run).
  'Query read timeout',
];

/**
 * Where each data layer keeps the error it wrapped: `cause` (standard; Drizzle,
 * roachbank), `original` (Sequelize's DatabaseError and ConnectionError),
 * `driverError` (TypeORM's QueryFailedError) and `meta.driverAdapterError`
 * (Prisma, whose adapter error's `cause` carries the driver's `originalCode`).
 */
function wrapped(e: object): unknown[] {
  const { cause, original, driverError, meta } = e as {
    cause?: unknown;
    original?: unknown;
    driverError?: unknown;
    meta?: { driverAdapterError?: unknown };
  };
  return [cause, original, driverError, meta?.driverAdapterError];
}

/** An error and every error it wraps, outermost first (at most 16: a cycle must not hang us). */
function* causeChain(error: unknown): Generator<object> {
  const queue: unknown[] = [error];
  const seen = new Set<object>();
  while (queue.length > 0 && seen.size < 16) {
    const e = queue.shift();
    if (!(e instanceof Object) || seen.has(e)) continue;
    seen.add(e);
    yield e;
    queue.push(...wrapped(e));
  }
}

/** Prisma's own codes (P2010, P2034, ...) have the shape of a SQLSTATE but are not one. */
const isPrismaError = (e: object): boolean => (e as { name?: unknown }).name?.toString().startsWith('PrismaClient') ?? false;

/** The first driver code along an error's chain that `matches` (Prisma's adapter calls it `originalCode`). */
function findCode(error: unknown, matches: (code: string) => boolean): string | undefined {
  for (const e of causeChain(error)) {
    const { code, originalCode } = e as { code?: unknown; originalCode?: unknown };
    for (const candidate of [isPrismaError(e) ? undefined : code, originalCode]) {
      if (typeof candidate === 'string' && matches(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * The SQLSTATE of an error, looked up through everything it wraps, so an error
 * wrapped by a data layer or by roachbank still classifies by the server's code.
 *
 * @example
 * sqlState(new Error('wrapped', { cause: pgError })) // '40001'
 */
export function sqlState(error: unknown): string | undefined {
  return findCode(error, (code) => /^[0-9A-Z]{5}$/.test(code));
}

/**
 * Sorts an error into the classes the retry core acts on; the one place that
 * knows SQLSTATEs and driver messages.
 *
 * @example
 * classifyError(pgErrorWithCode('40001')) // 'retryable'
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof ConnectionLostError) return 'connection';
  const state = sqlState(error);
  if (state !== undefined) {
    if (retryableStates.has(state)) return 'retryable';
    if (state === '40003') return 'ambiguous';
    if (state.startsWith('08') || connectionStates.has(state)) return 'connection';
    return 'fatal';
  }
  const code = findCode(error, (c) => c.startsWith('E'));
  if (code !== undefined && transientSocketCodes.has(code)) return 'connection';
  // Along the chain too: an ORM wraps the driver's "Connection terminated unexpectedly".
  for (const e of causeChain(error)) {
    const message = e instanceof Error ? e.message : '';
    if (connectionMessages.some((m) => message.includes(m))) return 'connection';
  }
  return 'fatal';
}
