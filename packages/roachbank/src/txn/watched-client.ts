import type pg from 'pg';

/**
 * A checked-out connection as the transaction callback sees it, plus what the
 * retry core needs to know afterwards: the last error any query raised (even
 * one the callback caught and swallowed) and whether the socket broke.
 */
export interface WatchedClient {
  /** What the callback receives: the same client, with `release()` refused. */
  readonly client: pg.PoolClient;
  /** The last error a query raised during the current attempt. */
  lastQueryError: unknown;
  /** Set when the connection failed; the client must then be discarded. */
  brokenBy: unknown;
  /** Forgets the previous attempt's query error (the savepoint protocol reuses the client). */
  startAttempt(): void;
  /** Detaches the listener; call before handing the client back to the pool. */
  stopWatching(): void;
}

/**
 * Wraps a pool client so the retry core sees every query error, including the
 * ones the callback catches itself, and so the callback cannot release the
 * connection the core still owns.
 *
 * pg-pool removes its own 'error' listener from checked-out clients, so without
 * ours a backend killed between two queries would crash the process.
 */
export function watchClient(raw: pg.PoolClient): WatchedClient {
  const onError = (error: unknown): void => {
    watched.brokenBy ??= error;
  };
  const record = (error: unknown): void => {
    watched.lastQueryError = error;
  };

  const query = (...args: unknown[]): unknown => {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, result: unknown) => {
        if (error) record(error);
        (callback as (e: unknown, r: unknown) => void)(error, result);
      };
    }
    const result = (raw.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        record(error);
        throw error;
      });
    }
    return result; // a Submittable (cursor, stream) reports errors itself
  };

  const release = (): never => {
    throw new Error('runTransaction owns this connection: do not call release() inside the transaction callback');
  };

  const client = new Proxy(raw, {
    get(target, property, receiver) {
      if (property === 'query') return query;
      if (property === 'release') return release;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  raw.on('error', onError);
  const watched: WatchedClient = {
    client,
    lastQueryError: undefined,
    brokenBy: undefined,
    startAttempt() {
      watched.lastQueryError = undefined;
    },
    stopWatching() {
      raw.removeListener('error', onError);
    },
  };
  return watched;
}
