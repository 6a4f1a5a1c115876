import type { ChaosOptions } from './chaos-run.js';

/**
 * The seed of a randomized run: `ROACHBANK_CHAOS_SEED` to re-run one, else a new one.
 * Every run prints it, so a failure can be replayed.
 */
export function chaosSeed(): number {
  const given = process.env.ROACHBANK_CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed))
      throw new Error(`the seed (--seed or ROACHBANK_CHAOS_SEED) must be a whole number, not ${given}`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** The fault mix of the suite and of the soak run (which only runs it longer). */
export const chaosDefaults: Omit<ChaosOptions, 'seed' | 'durationMs' | 'log'> = {
  accounts: 12,
  openingBalance: 1_000n,
  workers: { pg: 3, pgBatch: 2, grouped: 6, many: 2, orm: 3, timeout: 2, twin: 2, holds: 2, reversals: 1, atomic: 2 },
  cycleMs: 40_000,
  rates: { cutAtMessage: 0.002, cutBeforeCommit: 0.01, cutAfterCommit: 0.01, delay: 0.03, delayMs: [5, 250] },
};
