import type { IntervalStats, WorkloadSummary } from './run-workload.js';

// One line a second on stderr, in the columns of `cockroach workload`.
const columns = [
  '_elapsed',
  '___errors',
  '____ops/s',
  '____p50(ms)',
  '____p95(ms)',
  '____p99(ms)',
  '____max(ms)',
  '___retries',
  '___batch',
];

export const progressHeader = (): string => columns.join('');

export function progressLine(i: IntervalStats): string {
  const cells = [
    `${i.elapsedS.toFixed(1)}s`,
    i.errors,
    i.opsPerSec.toFixed(1),
    i.p50Ms.toFixed(1),
    i.p95Ms.toFixed(1),
    i.p99Ms.toFixed(1),
    i.maxMs.toFixed(1),
    i.retries,
    i.meanBatchSize === null ? '-' : i.meanBatchSize.toFixed(1),
  ];
  return cells.map((cell, n) => String(cell).padStart(columns[n]!.length)).join('');
}

export function summaryLines(s: WorkloadSummary): string[] {
  const inv = s.invariant;
  return [
    `${s.ops} transfers acknowledged in ${s.elapsedS} s: ${s.opsPerSec} ops/s`,
    `latency p50 ${s.p50Ms} ms, p95 ${s.p95Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms`,
    `retries ${s.retries}, errors ${s.errors}, refused ${s.refused}, ambiguous ${s.ambiguous}${s.lastError ? ` (last error: ${s.lastError})` : ''}`,
    `batches ${s.meanBatchSize === null ? 'none (each transfer its own statement)' : `of ${s.meanBatchSize} transfers on average`}`,
    `invariant ${inv.ok ? 'ok' : 'FAILED'}: verify ${inv.verifyOk ? 'ok' : 'FAILED'}, accounts off ${inv.mismatchedAccounts}, money ${inv.conserved ? 'conserved' : 'NOT conserved'}, reads ${inv.reads} (${inv.readViolations} wrong), unknown outcomes ${inv.unresolvedLookedUp} (${inv.undecided} undecided)${inv.holdsChecked > 0 ? `, holds ${inv.holdsChecked} (${inv.holdsWrong} wrong)` : ''}`,
  ];
}
