/**
 * Runs every item once to warm the file cache, then `rounds` rounds of one run
 * of each item in turn, so drift hits every item alike; the samples by name.
 */
export async function interleavedSamples<T extends { readonly name: string }>(
  items: readonly T[],
  rounds: number,
  runOnce: (item: T) => number | Promise<number>,
): Promise<Map<string, number[]>> {
  const samples = new Map(items.map((item) => [item.name, [] as number[]]));
  for (const item of items) await runOnce(item);
  for (let round = 0; round < rounds; round++) {
    for (const item of items) samples.get(item.name)!.push(await runOnce(item));
  }
  return samples;
}
