import prand from 'pure-rand';

/** Whole numbers from a seeded generator (xoroshiro128+), so a run's choices repeat with its seed. */
export interface SeededRandom {
  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number;
}

export function seededRandom(seed: number): SeededRandom {
  const generator = prand.xoroshiro128plus(seed);
  return { int: (min, max) => prand.unsafeUniformIntDistribution(min, max, generator) };
}
