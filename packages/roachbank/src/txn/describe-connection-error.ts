import { describeTarget } from '../errors/connection-target.js';
import { RoachbankError } from '../errors/roachbank-error.js';
import { classifyError, refusedSessionStates, sqlState } from './classify-error.js';
import { ConnectionLostError } from './connection-lost-error.js';
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
 * Turns a failure to reach or log in to the database, a connection lost
 * mid-command, or a statement the server cancelled (e.g. by `statement_timeout`)
 * into one line that says which of these happened and where roachbank tried to
 * connect, never the password: a `DATABASE_UNAVAILABLE` error. "cannot connect"
 * is said only when no connection was made. Returns undefined for errors that are
 * not about the connection, and for roachbank's own errors other than
 * `RetriesExhaustedError` (an `AmbiguousCommitError` keeps its code and meaning).
 *
 * @example
 * describeConnectionError(econnrefused, url)?.message
 * // 'cannot connect to max@db:26257/bank: connection refused (is the server running and is the port right?)'
 */
export function describeConnectionError(error: unknown, connectionString: string): RoachbankError | undefined {
  if (error instanceof RoachbankError && !(error instanceof RetriesExhaustedError || error instanceof ConnectionLostError)) {
    return undefined;
  }
  const target = describeTarget(connectionString);
  const root = error instanceof RetriesExhaustedError ? error.cause : error;
  const tries = error instanceof RetriesExhaustedError ? triesOf(error) : '';
  const unavailable = (message: string) => new RoachbankError('DATABASE_UNAVAILABLE', message, { cause: error });
  if (sqlState(root) === '57014') {
    return unavailable(`${target} cancelled the statement (statement_timeout or a cancel request); nothing was written`);
  }
  if (root instanceof ConnectionLostError) {
    const cause = explain(root.cause)?.text ?? root.message;
    return unavailable(`lost the connection to ${target} during a command: ${cause}${tries}; nothing was written`);
  }
  const cause = explain(root);
  if (cause === undefined) return undefined;
  return unavailable(
    cause.connecting
      ? `cannot connect to ${target}: ${cause.text}${tries}`
      : `the connection to ${target} failed: ${cause.text}${tries}`,
  );
}

function triesOf(error: RetriesExhaustedError): string {
  const attempts = `${error.attempts} attempt${error.attempts === 1 ? '' : 's'}`;
  return error.elapsedMs === undefined
    ? ` (after ${attempts})`
    : ` (after ${attempts} in ${(error.elapsedMs / 1000).toFixed(1)} s)`;
}

/** The cause in words, and whether it can only happen while connecting. */
function explain(error: unknown): { text: string; connecting: boolean } | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const message = error.message;
  const state = sqlState(error);
  const connecting = (text: string) => ({ text, connecting: true });
  if (state === '28P01' || state === '28000') return connecting(`authentication failed (${message})`);
  const refused = state === undefined ? undefined : refusedSessionStates[state];
  if (refused !== undefined && (state !== '55000' || (error as { severity?: unknown }).severity === 'FATAL')) {
    return { text: `${refused} (${message}, SQLSTATE ${state})`, connecting: state !== '57P01' };
  }
  if (code === 'ECONNREFUSED') return connecting('connection refused (is the server running and is the port right?)');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return connecting('host name not found (check the host in DATABASE_URL)');
  if (message.includes('timeout exceeded when trying to connect') || message.includes('due to connection timeout')) {
    return connecting('timed out while connecting (no answer within connect_timeout)');
  }
  if (code === 'ETIMEDOUT') return { text: 'timed out (no answer from the server)', connecting: false };
  if (typeof code === 'string' && untrustedCertificateCodes.has(code)) {
    return connecting(
      `TLS: the server's certificate is not signed by a trusted CA (${message}); pass the cluster's CA file with sslrootcert=<path>`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return connecting(
      `TLS: host name mismatch: ${(error as { reason?: string }).reason ?? message} (connect with the host name the certificate names)`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED') return connecting("TLS: the server's certificate has expired");
  if (message.includes('does not support SSL')) {
    return connecting('TLS: the server does not accept TLS connections (use sslmode=disable for a local server without TLS)');
  }
  if (typeof code === 'string' && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')))
    return connecting(`TLS: ${message}`);
  if (classifyError(error) === 'connection') return { text: message, connecting: false };
  return undefined;
}
