import { type AttemptSession, coreSteps, type SessionSource } from '../txn/attempt-session.js';
import { type RunTransactionOptions, runTransactionOn } from '../txn/run-transaction.js';

/** What the adapter uses of an interactive-transaction client (`tx`) of Prisma. */
export interface PrismaTransactionClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<R = unknown>(query: string, ...values: unknown[]): Promise<R>;
}

/** What the adapter uses of a PrismaClient: its interactive `$transaction`. */
export interface PrismaClientLike<Tx extends PrismaTransactionClient> {
  $transaction<R>(
    fn: (tx: Tx) => Promise<R>,
    options?: { isolationLevel?: PrismaIsolationLevel; maxWait?: number; timeout?: number },
  ): Promise<R>;
}

type PrismaIsolationLevel = 'ReadCommitted' | 'RepeatableRead' | 'Serializable';

/** Prisma's own limits for each interactive transaction (one per attempt, or one for all under the savepoint protocol). */
export interface PrismaTransactionLimits {
  /** Most ms to wait for a connection. Prisma's default 2000. */
  readonly maxWait?: number;
  /** Most ms the transaction may stay open before Prisma rolls it back. Prisma's default 5000. */
  readonly timeout?: number;
}

/**
 * `runTransaction` for Prisma (7, with a driver adapter such as `@prisma/adapter-pg`):
 * the callback gets the interactive transaction's `tx` client, so existing
 * `tx.account.update(...)` code runs in it unchanged.
 *
 * Prisma's own `prisma.$transaction(fn)` runs `fn` once: a write conflict reaches the
 * caller as P2034/P2010, and a statement error the callback caught still ends in
 * COMMIT, which PostgreSQL answers with ROLLBACK while Prisma reports success.
 *
 * Each attempt is one Prisma interactive transaction, held open while the core
 * decides: the callback's work, then COMMIT (or ROLLBACK) when the core says so.
 * Prisma keeps its connection private, so before COMMIT one `SELECT 1` asks the
 * server whether the transaction is intact (under CockroachDB's savepoint protocol
 * RELEASE SAVEPOINT asks instead). READ ONLY is sent as `SET TRANSACTION READ ONLY`.
 *
 * @example
 * import { runPrismaTransaction } from 'roachbank/prisma';
 * await runPrismaTransaction(prisma, async (tx) => {
 *   const account = await tx.account.findUniqueOrThrow({ where: { id } });
 *   await tx.account.update({ where: { id }, data: { balance: account.balance - 100n } });
 * });
 */
export function runPrismaTransaction<Tx extends PrismaTransactionClient, T>(
  prisma: PrismaClientLike<Tx>,
  fn: (tx: Tx, attempt: number) => Promise<T>,
  options?: RunTransactionOptions & { prisma?: PrismaTransactionLimits },
): Promise<T> {
  return runTransactionOn(prismaSessionSource(prisma, options?.prisma), fn, options);
}

const isolationNames = {
  serializable: 'Serializable',
  'repeatable read': 'RepeatableRead',
  'read committed': 'ReadCommitted',
} as const;

/** Thrown inside Prisma's callback to make it roll back; never leaves the session. */
class RollBack extends Error {}

/**
 * Sessions on a PrismaClient: each is one interactive transaction, left open until the core ends it.
 * Longer than 60 lines on purpose: Prisma's transaction lives inside its own callback, and
 * every step of the session reaches into that callback's promises, so they share one closure.
 */
export function prismaSessionSource<Tx extends PrismaTransactionClient>(
  prisma: PrismaClientLike<Tx>,
  limits: PrismaTransactionLimits = {},
): SessionSource<Tx> {
  return {
    identity: prisma,
    async open(mode) {
      let decide!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => {
        decide = resolve;
      });
      let opened!: (tx: Tx) => void;
      const ready = new Promise<Tx>((resolve) => {
        opened = resolve;
      });
      const outcome = prisma.$transaction(
        async (tx) => {
          opened(tx);
          if (!(await decided)) throw new RollBack();
        },
        { isolationLevel: isolationNames[mode.isolation], ...limits },
      );
      outcome.catch(() => {}); // observed below, by commit() or rollback()
      const tx = await Promise.race([ready, outcome.then(() => Promise.reject(new Error('Prisma ended the transaction')))]);
      const end = async (commit: boolean): Promise<void> => {
        decide(commit);
        try {
          await outcome;
        } catch (error) {
          if (!(error instanceof RollBack)) throw error;
        }
      };
      if (mode.readOnly) {
        try {
          await tx.$executeRawUnsafe('SET TRANSACTION READ ONLY');
        } catch (error) {
          end(false).catch(() => {}); // no transaction of ours stays open until Prisma's timeout
          throw error;
        }
      }
      const session: AttemptSession<Tx> = {
        handle: tx,
        async begin(_mode, savepoint) {
          if (savepoint) await tx.$executeRawUnsafe(`SAVEPOINT ${savepoint}`);
        },
        ...coreSteps({
          query: (text) => tx.$queryRawUnsafe<Record<string, unknown>[]>(text),
          execute: async (text) => {
            await tx.$executeRawUnsafe(text);
          },
        }),
        async commit() {
          await end(true);
          return 'committed';
        },
        rollback: () => end(false),
        state: () => undefined,
        brokenBy: undefined,
        lastQueryError: undefined,
        startAttempt() {},
        release: async () => {}, // Prisma gave the connection back when the transaction ended
        discard() {
          end(false).catch(() => {});
        },
      };
      return session;
    },
  };
}
