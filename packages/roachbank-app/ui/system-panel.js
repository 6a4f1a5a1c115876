// What the server is doing: its samples of the last minutes (GET /system/activity, read
// from the server's memory, so it still answers while the database is down) drawn as small
// charts, and the last verify with when it ran and a button to run it again.
import { api } from './api.js';
import { when } from './format.js';

const $ = (selector) => document.querySelector(selector);
const svg = 'http://www.w3.org/2000/svg';

/** The charts: what each shows, from which fields of a sample, and how a value reads. */
const charts = [
  { id: 'movements', title: 'Movements per second', fields: ['movementsPerSecond'], unit: '/s' },
  { id: 'latency', title: 'Latency p50 / p99', fields: ['p50Ms', 'p99Ms'], unit: ' ms' },
  { id: 'retries', title: 'Retries', fields: ['retries'], unit: '' },
  { id: 'ambiguous', title: 'Ambiguous commits resolved', fields: ['ambiguousResolved'], unit: '' },
  { id: 'batch', title: 'Mean batch size', fields: ['meanBatchSize'], unit: '' },
  { id: 'pool', title: 'Pool connections (total / waiting)', fields: ['poolTotal', 'poolWaiting'], unit: '' },
];

export function systemPanel() {
  const grid = $('#charts');
  grid.replaceChildren(
    ...charts.map((chart) => {
      const figure = document.createElement('figure');
      figure.id = `chart-${chart.id}`;
      const caption = Object.assign(document.createElement('figcaption'), { textContent: chart.title });
      const value = Object.assign(document.createElement('span'), { className: 'chart-value', textContent: '…' });
      const drawing = document.createElementNS(svg, 'svg');
      drawing.setAttribute('viewBox', '0 0 150 40');
      drawing.setAttribute('preserveAspectRatio', 'none');
      drawing.setAttribute('aria-hidden', 'true');
      figure.append(caption, value, drawing);
      return figure;
    }),
  );

  function draw(samples) {
    for (const chart of charts) {
      const figure = $(`#chart-${chart.id}`);
      const series = chart.fields.map((field) => samples.map((s) => s[field]));
      const top = Math.max(1, ...series.flat().filter((v) => v !== null));
      const drawing = figure.querySelector('svg');
      drawing.replaceChildren(
        ...series.map((values, line) => {
          const path = document.createElementNS(svg, 'polyline');
          const step = 150 / Math.max(1, values.length - 1);
          path.setAttribute(
            'points',
            values.map((v, i) => `${(i * step).toFixed(1)},${(38 - ((v ?? 0) / top) * 36).toFixed(1)}`).join(' '),
          );
          path.setAttribute('class', `line line-${line}`);
          return path;
        }),
      );
      const last = samples.at(-1);
      figure.querySelector('.chart-value').textContent = last
        ? chart.fields.map((field) => (last[field] === null ? '—' : `${last[field]}${chart.unit}`)).join(' / ')
        : 'no sample yet';
    }
  }

  function showVerify(lastVerify) {
    const badge = $('#verify-status');
    if (!lastVerify) {
      $('#verify-result').textContent = 'Not run yet on this server.';
      return;
    }
    const { report, at } = lastVerify;
    badge.textContent = report.ok ? 'verified' : 'invariants FAILED';
    badge.className = `badge ${report.ok ? 'ok' : 'failed'}`;
    const currencies = report.currencies
      .map((c) => `${c.currency}: ${c.accounts} accounts, balances ${c.totalBalance} = in ${c.moneyIn} − out ${c.moneyOut}`)
      .join('; ');
    $('#verify-result').textContent = `${report.ok ? 'All invariants hold' : 'Invariants FAILED'}: ${report.accounts} accounts, ${
      report.transfers
    } journal rows, checked in ${report.elapsedMs} ms at ${when(at)}.${currencies ? ` Per currency, in minor units: ${currencies}.` : ''}`;
    $('#verify-result').classList.toggle('error', !report.ok);
  }

  let timer = null;
  async function poll() {
    clearTimeout(timer);
    try {
      const activity = await api('GET', '/system/activity');
      draw(activity.samples);
      showVerify(activity.lastVerify);
      $('#system-section').classList.remove('stale');
      $('#activity-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      // Without a token that works, the token form asks for one; polling resumes once it is given.
      if (error.code === 'UNAUTHORIZED') return;
      $('#system-section').classList.add('stale');
    }
    timer = setTimeout(poll, 2000);
  }

  /** Runs verify now (it reads every table: a button, never on a timer). */
  async function runVerify() {
    const button = $('#verify-run');
    button.disabled = true;
    button.textContent = 'Verifying…';
    try {
      await api('GET', '/verify');
      await poll();
    } catch (error) {
      $('#verify-result').textContent = `Verify could not run: ${error.message}${error.code ? ` (${error.code})` : ''}`;
      $('#verify-result').classList.add('error');
    } finally {
      button.disabled = false;
      button.textContent = 'Run verify';
    }
    $('#verify-result').focus();
  }
  $('#verify-run').addEventListener('click', runVerify);

  return { start: poll, runVerify };
}
