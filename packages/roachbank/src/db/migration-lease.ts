import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { runTransaction } from '../txn/run-transaction.js';
import pgDriver from './pg-driver.js';
import { clientConfigOf } from './pool-config.js';

/**
 * The right to run migrations, held by one process at a time: a row with an
 * expiry that its holder pushes forward while it works. CockroachDB has no
 * advisory locks, and a schema change there is a job that can outlive the
 * statement's session, so a lock tied to a session would not do.
 *
 * Times are the server's (`now()`), so the processes' clocks do not matter;
 * on CockroachDB the nodes' clocks agree within the cluster's maximum offset
 * (500 ms by default), far below a lease.
 */
export const leaseTableSql = `CREATE TABLE IF NOT EXISTS roachbank.migration_lease (
     name       TEXT PRIMARY KEY,
     holder     UUID NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL
   )`;

// Taken when there is none, when it has expired, or again by its own holder.
const takeSql = `INSERT INTO roachbank.migration_lease (name, holder, expires_at)
VALUES ('schema', $1::UUID, now() + $2::INTERVAL)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE roachbank.migration_lease.expires_at < now() OR roachbank.migration_lease.holder = excluded.holder
RETURNING holder`;

const freshSql = `SELECT expires_at > now() AS fresh FROM roachbank.migration_lease WHERE name = 'schema'`;

const renewSql = `UPDATE roachbank.migration_lease SET expires_at = now() + $2::INTERVAL
WHERE name = 'schema' AND holder = $1::UUID RETURNING holder`;

const releaseSql = `DELETE FROM roachbank.migration_lease WHERE name = 'schema' AND holder = $1::UUID`;

export interface HeldLease {
  /** This holder's id, for statements that must run only while it holds the lease. */
  readonly holder: string;
  /** Throws if the lease may have passed to another process (not renewed in time). */
  assertHeld(): void;
  /** Stops renewing and gives the lease up. */
  release(): Promise<void>;
}

/**
 * Takes the migration lease if it is free or stale; `undefined` when another
 * process holds a fresh one. While held, it is renewed every third of
 * `leaseMs` on a connection of its own, so a long DDL statement on the pool's
 * connections (an index backfill of minutes) does not let it lapse.
 *
 * @example
 * const lease = await takeMigrationLease(pool, 15_000);
 * if (lease) try { lease.assertHeld(); ... } finally { await lease.release() }
 */
export async function takeMigrationLease(pool: pg.Pool, leaseMs: number): Promise<HeldLease | undefined> {
  const holder = randomUUID();
  const interval = `${leaseMs} milliseconds`;
  // A fresh lease is only read: waiters that poll do not write, so they do not
  // contend with its holder's renewals.
  const { rows } = await pool.query<{ fresh: boolean }>(freshSql);
  if (rows[0]?.fresh) return undefined;
  // Racing takers meet 40001 at SERIALIZABLE: the retry core settles who won.
  const taken = await runTransaction(pool, (client) => client.query(takeSql, [holder, interval]));
  if (taken.rowCount !== 1) return undefined;
  let renewedAt = performance.now();
  let lost = false;

  const renewer = new pgDriver.Client(clientConfigOf(pool));
  renewer.on('error', () => {});
  const connected = renewer.connect().then(
    () => true,
    () => false,
  );
  const renew = async (): Promise<void> => {
    const asked = performance.now();
    if (!(await connected)) return;
    // A renewal that fails (40001 against a taker's attempt, a lost connection) is tried
    // again at once, then at the next tick; assertHeld judges by the last good one.
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const { rowCount } = await renewer.query(renewSql, [holder, interval]);
        if (rowCount === 1) renewedAt = asked;
        else lost = true;
        return;
      } catch {}
    }
  };
  const timer = setInterval(() => void renew(), Math.max(10, Math.floor(leaseMs / 3)));

  return {
    holder,
    assertHeld() {
      // A renewal counts from when it was asked, so the margin covers its round trip.
      if (lost || performance.now() - renewedAt > leaseMs * 0.8) {
        throw new Error('the migration lease was not renewed in time and may be held by another process: migration stopped');
      }
    },
    async release() {
      clearInterval(timer);
      try {
        await runTransaction(pool, (client) => client.query(releaseSql, [holder]));
      } finally {
        await renewer.end().catch(() => {});
      }
    },
  };
}
