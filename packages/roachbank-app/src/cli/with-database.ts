import { describedFailure } from 'roachbank';
import type { Database } from '../database/open-database.js';

/**
 * Runs a command against the database and always lets go of it afterwards:
 * the pool is closed and the embedded server stopped if no other roachbank
 * process still uses it, also on Ctrl-C (exit 130) or SIGTERM (exit 143).
 *
 * @example
 * await withDatabase((db) => runHelloExample(db.pool));
 */
export async function withDatabase<T>(
  action: (db: Database) => Promise<T>,
  options: { maxConnections?: number } = {},
): Promise<T> {
  let db: Database | undefined;
  let signalExitCode: number | undefined;
  const closeAndExit = (): void => {
    void (db ? db.close() : Promise.resolve()).finally(() => process.exit(signalExitCode));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalExitCode !== undefined) return;
    signalExitCode = signal === 'SIGINT' ? 130 : 143;
    process.stderr.write(`roachbank: ${signal}, closing the database\n`);
    if (db) closeAndExit(); // else the database is still opening: close it as soon as it is open
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Loaded on use, so `--help` and usage errors never load the driver.
    const { openDatabase } = await import('../database/open-database.js');
    db = await openDatabase(options);
    if (signalExitCode !== undefined) {
      closeAndExit();
      await new Promise(() => {});
    }
    return await action(db);
  } catch (error) {
    // An action cut off by a signal fails only because its pool was closed under it: stay quiet.
    if (signalExitCode !== undefined) await new Promise(() => {});
    // The bank and the db layer name a failing database themselves (DATABASE_UNAVAILABLE, exit 5);
    // the seed demos send their own SQL, as the tutorials do, so theirs is named here.
    throw db ? describedFailure(db.pool, error) : error;
  } finally {
    if (signalExitCode === undefined) {
      await db?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
