import type { SeededRandom } from './seeded-random.js';

// How a run spreads its accounts over currencies (`--currencies N`): account i is in
// currency i mod N, so every currency has its share of the accounts and of the hot ones,
// and a movement stays inside one currency. With N = 1 every account is `XXX` (none), as
// before currencies, and the random choices are the same as they were.

const codes = ['USD', 'EUR', 'JPY', 'IDR', 'GBP', 'CHF', 'SGD', 'BRL'];

/** The currency of a run's `index`th account; undefined when the run has one (the bank's default). */
export function runCurrency(index: number, currencies: number): string | undefined {
  if (currencies <= 1) return undefined;
  const k = index % currencies;
  return codes[k] ?? `ASSET_${k}`;
}

/** How many of a run's `count` accounts are in the currency of class `k`. */
export function classSize(k: number, count: number, currencies: number): number {
  return k >= count ? 0 : Math.floor((count - 1 - k) / currencies) + 1;
}

/**
 * A destination for `from` among the first `hot` accounts of its currency, never itself.
 * Needs `hot ≥ 2 × currencies`, so that every currency has two hot accounts.
 */
export function partnerOf(from: number, hot: number, currencies: number, random: SeededRandom): number {
  const k = from % currencies;
  const position = (from - k) / currencies;
  let other = random.int(0, classSize(k, hot, currencies) - 2);
  if (other >= position) other++;
  return k + other * currencies;
}

/** Σ balances per currency class: what each must stay equal to is its accounts' opening balances. */
export function sumsByCurrency(balances: readonly bigint[], currencies: number): bigint[] {
  const sums = Array.from({ length: Math.max(currencies, 1) }, () => 0n);
  balances.forEach((balance, i) => {
    sums[i % sums.length]! += balance;
  });
  return sums;
}
