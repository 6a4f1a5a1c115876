import type { Flavor } from '../../packages/roachbank/src/bank/bank.js';

/**
 * The banks a feature's contract runs on: the pg flavor batched (group commit) and one
 * statement per movement, and the orm flavor. The Bank contract itself
 * (bank-contract.test.ts) adds the session isolations.
 */
export const bankVariants = [
  { flavor: 'pg', batch: true, name: 'pg, batched' },
  { flavor: 'pg', batch: false, name: 'pg, single statements' },
  { flavor: 'orm', batch: false, name: 'orm' },
] as const satisfies readonly { flavor: Flavor; batch: boolean; name: string }[];
