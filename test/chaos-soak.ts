// `npm run chaos`: the fault-injection run of the test suite, for as long as
// you like (the fault cycle repeats), e.g. `npm run chaos -- --minutes 30`.
// Re-run a seed with `--seed N`. Exit 1 if the audit finds anything.
import { parseArgs } from 'node:util';
import { runChaos } from './support/chaos-run.js';
import { chaosDefaults, chaosSeed } from './support/chaos-settings.js';

const usage = 'usage: npm run chaos -- [--minutes N] [--seed N]';
let values: { minutes?: string; seed?: string };
try {
  ({ values } = parseArgs({ options: { minutes: { type: 'string' }, seed: { type: 'string' } } }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const minutes = Number(values.minutes ?? 10);
if (!(minutes > 0)) {
  console.error(`--minutes must be a positive number, not ${values.minutes}\n${usage}`);
  process.exit(2);
}
if (values.seed !== undefined) process.env.ROACHBANK_CHAOS_SEED = values.seed;
let seed: number;
try {
  seed = chaosSeed();
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
console.log(`chaos: ${minutes} min, seed ${seed} (re-run with --seed ${seed})`);

const report = await runChaos({ ...chaosDefaults, seed, durationMs: minutes * 60_000, log: (line) => console.log(line) });
const { faults, transfers, recovery, audit, problems } = report;
console.log('\nfaults injected');
console.table(faults);
console.log('transfers');
console.table({
  ...transfers,
  failed: JSON.stringify(transfers.failed),
  ambiguousAfterRun: JSON.stringify(transfers.ambiguousAfterRun),
});
console.log(`recovery: ${recovery.heals} heals, worst ${recovery.worstMs} ms to the next acknowledged transfer`);
console.log('audit');
console.table({ ...audit, total: `${audit.total.actual} of ${audit.total.expected}`, problems: audit.problems.length });
if (problems.length > 0) {
  console.error(`\nFAILED (seed ${seed}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`\nOK: no money lost, made or moved twice (seed ${seed})`);
