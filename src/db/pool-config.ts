import { existsSync, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';

const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof sslModes)[number];
const tlsParameters = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'uselibpqcompat'];

/**
 * Turns a connection string into node-postgres settings, with libpq's meaning
 * of `sslmode` (node-postgres on its own treats `require` as `verify-full`):
 *
 * - `disable`, `allow`, `prefer`: no TLS (libpq would try TLS first for allow/prefer).
 * - `require`: TLS, certificate not checked.
 * - `verify-ca`: TLS, certificate chain checked, host name not.
 * - `verify-full`: TLS, chain and host name checked.
 * - `sslrootcert=<file>` trusts that CA; without it (or with `sslrootcert=system`)
 *   Node's bundled public CAs are trusted, which is what CockroachDB Basic and
 *   Standard clusters need. libpq would read `~/.postgresql/root.crt`; roachbank does not.
 * - `sslcert`/`sslkey`: a client certificate.
 *
 * Malformed input throws `INVALID_ARGUMENT` naming the problem, never the password.
 *
 * @example
 * const pool = new pg.Pool(poolConfigFromUrl(process.env.DATABASE_URL!));
 */
export function poolConfigFromUrl(connectionString: string): pg.PoolConfig {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw invalid('DATABASE_URL is not a valid URL (expected postgresql://user:password@host:port/database)');
  }
  if (url.protocol === 'cockroachdb:') url = new URL(`postgresql:${connectionString.slice('cockroachdb:'.length)}`);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw invalid(`DATABASE_URL must start with postgresql:// (got ${url.protocol}//)`);
  }
  if (!url.hostname) throw invalid('DATABASE_URL names no host');

  const params = url.searchParams;
  const mode = params.get('sslmode') ?? (params.has('sslrootcert') ? 'verify-full' : 'disable');
  if (!(sslModes as readonly string[]).includes(mode)) {
    throw invalid(`unknown sslmode "${mode}" in DATABASE_URL (use one of ${sslModes.join(', ')})`);
  }
  const ssl = tlsOptions(mode as SslMode, params);
  for (const name of tlsParameters) url.searchParams.delete(name);

  // Settings in the connection string win over these defaults (node-postgres merges it last).
  return {
    connectionString: url.toString(),
    ssl,
    application_name: 'roachbank',
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
}

function tlsOptions(mode: SslMode, params: URLSearchParams): false | ConnectionOptions {
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const options: ConnectionOptions = { rejectUnauthorized: mode !== 'require' };
  const rootCert = params.get('sslrootcert');
  if (rootCert && rootCert !== 'system') options.ca = readTlsFile('sslrootcert', rootCert);
  if (mode === 'verify-ca') options.checkServerIdentity = () => undefined;
  const cert = params.get('sslcert');
  const key = params.get('sslkey');
  if (cert) options.cert = readTlsFile('sslcert', cert);
  if (key) options.key = readTlsFile('sslkey', key);
  const passphrase = params.get('sslpassword');
  if (passphrase) options.passphrase = passphrase;
  return options;
}

function readTlsFile(parameter: string, path: string): string {
  if (!existsSync(path)) throw invalid(`${parameter} file not found: ${path}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`${parameter} file cannot be read: ${path} (${(error as Error).message})`);
  }
}

function invalid(message: string): RoachbankError {
  return new RoachbankError('INVALID_ARGUMENT', message);
}
