import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPool } from '../../packages/roachbank/src/db/create-pool.js';

/** A database of its own for one suite, on the run's test server. */
export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/** The run's server (started by test/run-tests.ts), as the superuser, on the `roachbank` database. */
export function adminUrl(): string {
  const url = process.env.ROACHBANK_TEST_URL;
  if (!url) throw new Error('ROACHBANK_TEST_URL is unset: run the tests with npm test');
  return url;
}

/** The same server and credentials, another database. */
export function urlOfDatabase(name: string, base: string = adminUrl()): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(
  prefix: string,
  options: { max?: number; statementIsolation?: 'read committed' } = {},
): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = createPool(adminUrl(), { max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = urlOfDatabase(name);
  const pool = createPool(url, {
    max: options.max ?? 10,
    ...(options.statementIsolation ? { statementIsolation: options.statementIsolation } : {}),
  });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
