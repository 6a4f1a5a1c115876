/** Where roachbank's database is: a URL the user gave, or the embedded server. */
export type ConnectionSource = { readonly kind: 'url'; readonly url: string } | { readonly kind: 'embedded' };

/**
 * `DATABASE_URL` when set (used as given), otherwise the embedded PostgreSQL.
 *
 * @example
 * resolveConnectionSource({ DATABASE_URL: 'postgresql://u:p@host:26257/db' }) // { kind: 'url', ... }
 */
export function resolveConnectionSource(env: NodeJS.ProcessEnv = process.env): ConnectionSource {
  const url = env.DATABASE_URL?.trim();
  return url ? { kind: 'url', url } : { kind: 'embedded' };
}

/**
 * A connection string safe to print: the password (and any `password` query
 * parameter) replaced by `*****`; unparsable input is not echoed at all.
 *
 * @example
 * redactConnectionString('postgresql://max:s3cret@db:26257/bank') // 'postgresql://max:*****@db:26257/bank'
 */
export function redactConnectionString(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return '<unparsable connection string>';
  }
  if (url.password) url.password = '*****';
  if (url.searchParams.has('password')) url.searchParams.set('password', '*****');
  return url.toString();
}

/**
 * `user@host:port/database` of a connection string: what a message names when it
 * says where roachbank tried to connect.
 *
 * @example
 * describeTarget('postgresql://max:s3cret@db:26257/bank') // 'max@db:26257/bank'
 */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
    const port = url.port || '5432';
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    return `${user}${url.hostname}:${port}${database ? `/${database}` : ''}`;
  } catch {
    return '<unparsable connection string>';
  }
}
