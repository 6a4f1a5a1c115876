// How a message names a database: never with its password. Here, at the bottom of
// the layers, because the retry core's connection messages need it as much as the CLI.

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
