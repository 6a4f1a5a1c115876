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
