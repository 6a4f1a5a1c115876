import { describedFailure } from '../db/pool-target.js';
import type { MoveAnswer, MovementResult } from './bank.js';
import type { BankStore } from './bank-store.js';

/**
 * A store whose failures to reach the database come out as DATABASE_UNAVAILABLE,
 * naming where it connects and never the password (`describedFailure`), its
 * movements' per-item errors included. The one place the bank translates them, so
 * every surface (library, CLI, HTTP, its batch and the CLI's file mode) sees the
 * same code for the same failure. Any other error passes unchanged.
 *
 * @example
 * const store = describingFailures(new PgStore(pool, retry));
 */
export function describingFailures(store: BankStore): BankStore {
  const described = (error: unknown) => describedFailure(store.pool, error);
  const rethrow = (error: unknown): never => {
    throw described(error);
  };
  const answering =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      call(...args).then(undefined, rethrow);
  const describeItems = (answers: MovementResult<MoveAnswer>[]): MovementResult<MoveAnswer>[] =>
    answers.every((answer) => answer.ok)
      ? answers
      : answers.map((answer): MovementResult<MoveAnswer> => (answer.ok ? answer : { ok: false, error: described(answer.error) }));
  return {
    pool: store.pool,
    retry: store.retry,
    groupCommit: store.groupCommit,
    moveBatch: answering((items, signal) => store.moveBatch(items, signal).then(describeItems)),
    moveGroup: answering((batches, signal) =>
      store.moveGroup(batches, signal).then((group) => (group.ok ? group : { ...group, error: described(group.error) })),
    ),
    reversedOf: answering((id) => store.reversedOf(id)),
    findHolds: answering((ids) => store.findHolds(ids)),
    holdsOf: answering((accountId, limit, after) => store.holdsOf(accountId, limit, after)),
    releaseExpired: answering((limit) => store.releaseExpired(limit)),
    insertAccount: answering((account) => store.insertAccount(account)),
    findAccount: answering((id) => store.findAccount(id)),
    readBalances: answering((ids) => store.readBalances(ids)),
    listAccounts: answering((limit, after, newest) => store.listAccounts(limit, after, newest)),
    accountsByIdRange: answering((lower, upper, limit, after) => store.accountsByIdRange(lower, upper, limit, after)),
    accountsByReference: answering((reference, limit, after) => store.accountsByReference(reference, limit, after)),
    transfersByReference: answering((reference, limit, after) => store.transfersByReference(reference, limit, after)),
    changeAccount: answering((id, deciding) => store.changeAccount(id, deciding)),
    findTransfers: answering((ids) => store.findTransfers(ids)),
    history: answering((accountId, limit, after) => store.history(accountId, limit, after)),
  };
}
