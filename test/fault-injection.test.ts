import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from './support/chaos-run.js';
import { chaosDefaults, chaosSeed } from './support/chaos-settings.js';

test('no money lost (holds, posts, voids, reversals and atomic groups among the movements) under cuts, ambiguous commits, refused connections, timeouts, killed backends and three crashes', {
  timeout: 240_000,
}, async (t) => {
  const seed = chaosSeed();
  t.diagnostic(`seed ${seed} (re-run with ROACHBANK_CHAOS_SEED=${seed})`);
  const report = await runChaos({ ...chaosDefaults, seed, durationMs: 40_000, log: (line) => t.diagnostic(line) });
  const { audit, ...summary } = report;
  t.diagnostic(JSON.stringify(summary));
  t.diagnostic(JSON.stringify(audit));
  assert.deepEqual(report.problems, [], `seed ${seed}`);
  assert.ok(report.transfers.acknowledged > 1000, `only ${report.transfers.acknowledged} transfers acknowledged`);
  for (const [kind, count] of Object.entries(report.transfers.kinds)) assert.ok(count >= 5, `only ${count} ${kind}`);
});
