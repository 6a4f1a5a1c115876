import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether an Authorization header carries the API token: `Bearer <token>`,
 * compared in constant time (both sides hashed first, so their lengths leak nothing).
 */
export function hasToken(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  if (!match) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

/** Loopback addresses, where `serve` may listen without a token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
