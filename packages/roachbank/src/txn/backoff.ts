import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * The full-jitter delay before the attempt after `failedAttempt`:
 * `random(0, min(maxDelayMs, baseDelayMs · 2^failedAttempt))`, so that clients that
 * collided once spread out instead of colliding again in lockstep.
 *
 * @example
 * backoffDelay(3, 10, 1000) // somewhere in [0, 80]
 */
export function backoffDelay(
  failedAttempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** failedAttempt);
  return Math.floor(random() * (cap + 1));
}

/** Sleeps `ms`, or rejects with the signal's reason as soon as it aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  try {
    await sleepFor(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}
