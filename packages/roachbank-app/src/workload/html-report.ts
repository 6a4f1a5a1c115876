import type { WorkloadSummary } from './run-workload.js';

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A line chart as inline SVG: x is seconds, y starts at 0; a legend names the series. */
function lineChart(title: string, unit: string, series: readonly Series[]): string {
  const width = 760;
  const height = 260;
  const pad = { left: 60, right: 20, top: 30, bottom: 36 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(1, ...xs);
  const yMax = niceCeiling(Math.max(1e-9, ...ys));
  const x = (v: number) => pad.left + (v / xMax) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e3e6eb"/><text x="${pad.left - 8}" y="${y(t) + 4}" text-anchor="end">${format(t)}</text>`,
    )
    .join('');
  const xTicks = [0, 0.5, 1]
    .map((f) => `<text x="${x(f * xMax)}" y="${height - pad.bottom + 14}" text-anchor="middle">${format(f * xMax)}</text>`)
    .join('');
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${pad.left + i * 110}" y="8" width="12" height="12" fill="${s.color}"/><text x="${pad.left + 16 + i * 110}" y="18">${escapeHtml(s.name)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">${grid}${xTicks}${lines}${legend}
<text x="${width / 2}" y="${height - 6}" text-anchor="middle">seconds</text>
<text transform="translate(14 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(unit)}</text></svg></figure>`;
}

function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((c) => c >= value)!;
}
const format = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * A self-contained HTML page of a workload run: throughput and latency
 * percentiles over time as charts, the settings and the totals.
 *
 * @example
 * await writeFile('run.html', workloadReport(summary, { accounts: 1000, concurrency: 8 }));
 */
export function workloadReport(summary: WorkloadSummary, settings: Readonly<Record<string, unknown>>): string {
  const at = (pick: (i: (typeof summary.intervals)[number]) => number) =>
    summary.intervals.map((i) => [i.elapsedS, pick(i)] as const);
  const rows = (entries: [string, unknown][]) =>
    entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('');
  const inv = summary.invariant;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>roachbank workload</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;color:#1d2330;max-width:860px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.4rem}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.25rem}
svg{width:100%;height:auto;font-size:11px;fill:#555d6b}table{border-collapse:collapse}
th,td{text-align:left;padding:.2rem .8rem .2rem 0;border-bottom:1px solid #e3e6eb}th{font-weight:500;color:#555d6b}
.ok{color:#17602c;font-weight:600}.failed{color:#8a1c1c;font-weight:600}
</style></head><body>
<h1>roachbank workload</h1>
<p>${summary.ops} transfers acknowledged in ${summary.elapsedS} s, <strong>${summary.opsPerSec} ops/s</strong>; invariant
<span class="${inv.ok ? 'ok' : 'failed'}">${inv.ok ? 'ok' : 'FAILED'}</span>.</p>
${lineChart('Throughput', 'transfers per second', [{ name: 'ops/s', color: '#2a5bd7', points: at((i) => i.opsPerSec) }])}
${lineChart('Latency percentiles', 'milliseconds', [
  { name: 'p50', color: '#2a9d5b', points: at((i) => i.p50Ms) },
  { name: 'p95', color: '#e0a030', points: at((i) => i.p95Ms) },
  { name: 'p99', color: '#d0463c', points: at((i) => i.p99Ms) },
  { name: 'max', color: '#8a8f99', points: at((i) => i.maxMs) },
])}
<h2>Settings</h2><table>${rows(Object.entries(settings))}</table>
<h2>Totals</h2><table>${rows([
    ['acknowledged transfers', summary.ops],
    ['ops/s', summary.opsPerSec],
    ['latency p50 / p95 / p99 / max (ms)', `${summary.p50Ms} / ${summary.p95Ms} / ${summary.p99Ms} / ${summary.maxMs}`],
    ['retries', summary.retries],
    ['errors', summary.errors],
    ['refused (insufficient funds)', summary.refused],
    ['ambiguous commits', summary.ambiguous],
    ['verify', inv.verifyOk ? 'ok' : 'FAILED'],
    ['accounts off their acknowledged balance', inv.mismatchedAccounts],
    ['money conserved', inv.conserved],
    ['snapshot reads (wrong)', `${inv.reads} (${inv.readViolations})`],
  ])}</table>
</body></html>
`;
}
