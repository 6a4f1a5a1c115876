import { describeTarget } from '../config.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import { classifyError, sqlState } from './classify-error.js';
import { RetriesExhaustedError } from './retries-exhausted-error.js';

const untrustedCertificateCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * Turns a failure to reach or log in to the database (or a statement the
 * server cancelled, e.g. by `statement_timeout`) into one line that names the
 * cause and where roachbank tried to connect, never the password: a
 * `DATABASE_UNAVAILABLE` error. Returns undefined for errors that are not about
 * the connection (those keep their own meaning).
 *
 * @example
 * describeConnectionError(econnrefused, url)?.message
 * // 'cannot connect to max@db:26257/bank: connection refused (is the server running and is the port right?)'
 */
export function describeConnectionError(error: unknown, connectionString: string): RoachbankError | undefined {
  const attempts = error instanceof RetriesExhaustedError ? ` (after ${error.attempts} attempts)` : '';
  const root = error instanceof RetriesExhaustedError ? error.cause : error;
  if (sqlState(root) === '57014') {
    return new RoachbankError(
      'DATABASE_UNAVAILABLE',
      `${describeTarget(connectionString)} cancelled the statement (statement_timeout or a cancel request); nothing was written`,
      { cause: error },
    );
  }
  const cause = explain(root);
  if (cause === undefined) return undefined;
  return new RoachbankError(
    'DATABASE_UNAVAILABLE',
    `cannot connect to ${describeTarget(connectionString)}: ${cause}${attempts}`,
    {
      cause: error,
    },
  );
}

function explain(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const message = error.message;
  const state = sqlState(error);
  if (state === '28P01' || state === '28000') return `authentication failed (${message})`;
  if (state === '3D000') return message;
  if (state === '57P03') return 'the server is starting up or shutting down';
  if (state === '53300') return 'the server has no free connection slot (too many clients)';
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running and is the port right?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found (check the host in DATABASE_URL)';
  if (code === 'ETIMEDOUT' || message.includes('timeout exceeded when trying to connect')) return 'timed out while connecting';
  if (typeof code === 'string' && untrustedCertificateCodes.has(code)) {
    return `TLS: the server's certificate is not signed by a trusted CA (${message}); pass the cluster's CA file with sslrootcert=<path>`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: host name mismatch: ${(error as { reason?: string }).reason ?? message} (connect with the host name the certificate names)`;
  }
  if (code === 'CERT_HAS_EXPIRED') return "TLS: the server's certificate has expired";
  if (message.includes('does not support SSL')) {
    return 'TLS: the server does not accept TLS connections (use sslmode=disable for a local server without TLS)';
  }
  if (typeof code === 'string' && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) return `TLS: ${message}`;
  if (classifyError(error) === 'connection') return message;
  return undefined;
}
