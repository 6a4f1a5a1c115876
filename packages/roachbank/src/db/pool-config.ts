import { existsSync, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import { RoachbankError } from '../errors/roachbank-error.js';
import { mergeStartupOptions } from './startup-options.js';
import { waitBounds } from './wait-bounds.js';

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
 * - `options=-c name=value …`: session settings at connect, kept apart from the
 *   URL so that `createPool` joins them with its own (`mergeStartupOptions`).
 * - `connect_timeout=<seconds>` bounds one connect, as in libpq (0 waits forever,
 *   1 means 2); default `connectTimeoutMs` (4 s). `keepalives=0` turns TCP keepalive
 *   off; `keepalives_idle=<seconds>` sets its idle time (default 10 s).
 *
 * Waits are bounded on the client (`waitBounds`): a connect by `connect_timeout`;
 * a query on a connection whose host vanished by TCP keepalive and the kernel's
 * retransmission limit, or sooner by `query_timeout=<ms>` (node-postgres' own
 * parameter, passed through); a query the server is slow to answer by the
 * server's `statement_timeout`.
 *
 * Malformed input throws `INVALID_ARGUMENT` naming the problem, never the password.
 *
 * @example
 * const pool = new pg.Pool(poolConfigFromUrl(process.env.DATABASE_URL!));
 */
export function poolConfigFromUrl(connectionString: string, defaults: { connectTimeoutMs?: number } = {}): pg.PoolConfig {
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
  const connectTimeoutMs = connectTimeoutOf(params) ?? defaults.connectTimeoutMs ?? waitBounds.connectTimeoutMs;
  const keepAlive = secondsParameter(params, 'keepalives') !== 0;
  const keepAliveIdleMs = (secondsParameter(params, 'keepalives_idle') ?? waitBounds.keepAliveIdleMs / 1000) * 1000;
  // node-postgres lets the URL's `options` replace the config's whole: it is taken out
  // here, so createPool can join it with roachbank's own settings instead.
  const options = params.has('options') ? mergeStartupOptions(new Map(), params.get('options') ?? '') : undefined;
  for (const name of [...tlsParameters, ...libpqTimingParameters, 'options']) url.searchParams.delete(name);

  // Settings in the connection string win over these defaults (node-postgres merges it last).
  return {
    connectionString: url.toString(),
    ...(options ? { options } : {}),
    ssl,
    application_name: 'roachbank',
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive,
    keepAliveInitialDelayMillis: keepAliveIdleMs,
  };
}

const libpqTimingParameters = ['connect_timeout', 'keepalives', 'keepalives_idle'];

/** libpq's `connect_timeout`: whole seconds; 0 or less waits forever (node-postgres: 0); 1 counts as 2. */
function connectTimeoutOf(params: URLSearchParams): number | undefined {
  const seconds = secondsParameter(params, 'connect_timeout', true);
  if (seconds === undefined) return undefined;
  if (seconds <= 0) return 0;
  return Math.max(seconds, 2) * 1000;
}

function secondsParameter(params: URLSearchParams, name: string, signed = false): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  if (!(signed ? /^-?\d{1,9}$/ : /^\d{1,9}$/).test(text.trim())) {
    throw invalid(`${name} in DATABASE_URL must be a whole number of seconds, got "${text}"`);
  }
  return Number(text);
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

/** The settings of one connection in a pool's config, without the pool's own (size, idle times). */
const clientSettings = [
  'connectionString',
  'ssl',
  'application_name',
  'connectionTimeoutMillis',
  'keepAlive',
  'keepAliveInitialDelayMillis',
  'options',
] as const;

/** How one connection of a pool connects: the part of its config that is not about the pool. */
export type ClientSettings = Pick<pg.ClientConfig, (typeof clientSettings)[number]>;

/**
 * How `pool` connects (URL, TLS, timeouts, keepalive), for a data layer that
 * opens connections of its own (Knex, TypeORM, Sequelize) and should open them
 * exactly as roachbank does.
 *
 * @example
 * const knex = knexFactory({ client: 'pg', connection: clientConfigOf(pool) });
 */
export function clientConfigOf(pool: pg.Pool): ClientSettings {
  const config: Record<string, unknown> = {};
  for (const name of clientSettings) {
    const value = (pool.options as unknown as Record<string, unknown>)[name];
    if (value !== undefined) config[name] = value;
  }
  return config as ClientSettings;
}
