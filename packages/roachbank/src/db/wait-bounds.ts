/**
 * How long roachbank waits for the database, in one place, so the numbers fit
 * together: a connect attempt (`connect_timeout`) fits twice in the retry
 * budget, so one lost or slow connect is tried again, and a database that
 * never answers gives `DATABASE_UNAVAILABLE` after the budget: within 10 s of
 * a command's start (CLI start-up included), and as a 503 from the API.
 *
 * - `connectTimeoutMs`: one connect (TCP, TLS, start-up and login); the URL's
 *   `connect_timeout` (seconds, as libpq spells it) overrides it.
 * - `keepAliveIdleMs`: TCP keepalive probes start after this much silence on an
 *   idle connection (libpq's `keepalives_idle`, seconds), so a pooled connection
 *   to a host that vanished is found dead instead of hanging the next query.
 * - `retryBudgetMs`: how long one operation keeps retrying (`retryBudgetMs` of the
 *   retry core) before it gives up.
 *
 * @example
 * createPool(url, { connectTimeoutMs: waitBounds.connectTimeoutMs })
 */
export const waitBounds = { connectTimeoutMs: 4_000, keepAliveIdleMs: 10_000, retryBudgetMs: 8_000 } as const;
