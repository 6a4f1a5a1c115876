import { createRequire } from 'node:module';

/**
 * node-postgres, loaded without its Cloudflare Workers probe. On loading, pg
 * asks whether it runs in a Worker (`isCloudflareRuntime` in `pg/lib/stream.js`):
 * where `navigator` is undefined (Node 20) it builds a `new Response(...)`, and
 * the first touch of `Response` makes Node load its whole fetch implementation,
 * about 15 ms of every command's start for a class roachbank never uses. With
 * `Response` hidden for the moment of that synchronous load, the probe answers
 * "not a Worker" at once; the global is put back as it was before this module
 * returns. Node 21 and later define `navigator`, so pg never reaches the probe
 * and pg is loaded as is.
 *
 * @example
 * import pg from './pg-driver.js';
 * new pg.Pool({ connectionString });
 */
const pg = loadWithoutWorkerProbe();
export default pg;

function loadWithoutWorkerProbe(): typeof import('pg') {
  const require = createRequire(import.meta.url);
  const response = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if ('navigator' in globalThis || !response?.configurable) return require('pg');
  Object.defineProperty(globalThis, 'Response', { value: undefined, configurable: true, writable: true });
  try {
    return require('pg');
  } finally {
    Object.defineProperty(globalThis, 'Response', response);
  }
}
