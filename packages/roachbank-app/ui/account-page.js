// One account: its figures, its forms (deposit, withdraw, transfer, hold, close), its holds
// with post and void, its history newest first with the balance after each movement and a
// reverse button, and a statement to download. Each part reads its own page from the API.

import { resolveAccount } from './account-picker.js';
import { api, download } from './api.js';
import { cell, emptyRow, idCell, minorUnits, money, short, when } from './format.js';
import { onSubmit, rowAction, say } from './forms.js';

const $ = (selector) => document.querySelector(selector);
const pageSize = 25;

export function accountPage({ changed }) {
  const state = { account: null };
  const unit = () => state.account ?? {};
  const id = () => state.account?.id;

  async function show(accountId, { focus = false } = {}) {
    const account = await api('GET', `/accounts/${accountId}`);
    // Another account: what was said about the last one's forms goes with it.
    if (state.account?.id !== account.id)
      for (const said of document.querySelectorAll('#account-section .form-result')) said.hidden = true;
    state.account = account;
    $('#account-section').hidden = false;
    $('#account-id').textContent = account.id;
    const facts = {
      balance: money(account.balance, account),
      held: money(account.held, account),
      available: money(account.available, account),
      currency: account.currency === 'XXX' ? 'none' : `${account.currency} (${account.decimals} decimals)`,
      credit: money(account.creditLimit, account),
      status: account.closedAt ? `closed ${when(account.closedAt)}` : `open since ${when(account.createdAt)}`,
      reference: account.reference ?? '—',
    };
    for (const [name, text] of Object.entries(facts)) $(`#fact-${name}`).textContent = text;
    const open = !account.closedAt;
    for (const form of document.querySelectorAll('#account-section .money-form')) form.hidden = !open;
    $('#close-form').hidden = !open;
    for (const label of document.querySelectorAll('#account-section .amount-unit'))
      label.textContent = account.currency === 'XXX' ? '' : ` (${account.currency})`;
    await Promise.all([showHistory(false), showHolds(false)]);
    const today = new Date().toISOString().slice(0, 10);
    for (const input of [$('#statement-from'), $('#statement-to')]) input.value ||= today;
    if (focus) $('#account-title').focus();
  }

  const refresh = async () => {
    if (id()) await show(id());
    await changed();
  };

  /** One page of the account's history or holds, newest first: the first, or the one after those shown. */
  async function showPage(part, more) {
    const { path, table, columns, empty, row } = part;
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (more && part.cursor) query.set('cursor', part.cursor);
    const page = await api('GET', `/accounts/${id()}/${path}?${query}`);
    part.cursor = page.next;
    const rows = page.items.map(row);
    const body = $(`${table} tbody`);
    if (more) body.append(...rows);
    else body.replaceChildren(...(rows.length ? rows : [emptyRow(columns, empty)]));
    $(`${table}-more`).hidden = page.next === null;
  }
  const history = { path: 'transfers', table: '#history', columns: 7, empty: 'No movements yet.', row: (t) => historyRow(t) };
  const holds = { path: 'holds', table: '#holds', columns: 6, empty: 'No holds.', row: (h) => holdRow(h) };
  const showHistory = (more) => showPage(history, more);
  const showHolds = (more) => showPage(holds, more);

  function historyRow(t) {
    const accountId = id();
    const incoming = t.toId === accountId;
    const kind = t.fromId === null ? 'deposit' : t.toId === null ? 'withdrawal' : incoming ? 'transfer in' : 'transfer out';
    const balanceAfter = incoming ? t.toBalanceAfter : t.fromBalanceAfter;
    const row = document.createElement('tr');
    row.dataset.transfer = t.id;
    const reverse = rowAction(
      'Reverse',
      `reverse:${t.id}`,
      $('#history-result'),
      async (key) => {
        const reversal = await api('POST', `/transfers/${t.id}/reversals`, {}, key);
        return `Reversed ${money(reversal.amount, unit())} of movement ${short(t.id)}.`;
      },
      refresh,
    );
    reverse.setAttribute('aria-label', `Reverse movement ${t.id}`);
    row.append(
      cell(when(t.createdAt)),
      cell(t.reversalOf ? `${kind} (reversal)` : t.holdId ? `${kind} (hold posted)` : kind),
      cell(`${incoming ? '+' : '−'}${money(t.amount, unit())}`, 'num amount'),
      cell(balanceAfter === null ? '' : money(balanceAfter, unit()), 'num balance-after'),
      idCell(incoming ? t.fromId : t.toId, 'counterparty'),
      Object.assign(cell(t.reference ?? '', 'reference'), { title: t.metadata ? JSON.stringify(t.metadata) : '' }),
      Object.assign(cell(''), { className: 'actions' }),
    );
    row.lastChild.append(reverse);
    return row;
  }

  function holdRow(h) {
    const row = document.createElement('tr');
    row.dataset.hold = h.id;
    const actions = Object.assign(cell(''), { className: 'actions' });
    if (h.status === 'pending') {
      const post = rowAction(
        'Post',
        `post:${h.id}`,
        $('#holds-result'),
        async (key) => {
          const posted = await api('POST', `/holds/${h.id}/post`, {}, key);
          return `Posted ${money(posted.amount, unit())} of hold ${short(h.id)}.`;
        },
        refresh,
      );
      const release = rowAction(
        'Void',
        `void:${h.id}`,
        $('#holds-result'),
        async () => {
          await api('POST', `/holds/${h.id}/void`);
          return `Voided hold ${short(h.id)}.`;
        },
        refresh,
      );
      post.setAttribute('aria-label', `Post hold ${h.id}`);
      release.setAttribute('aria-label', `Void hold ${h.id}`);
      actions.append(post, release);
    }
    row.append(
      cell(when(h.createdAt)),
      cell(money(h.amount, unit()), 'num'),
      h.toId ? idCell(h.toId) : cell('withdrawal'),
      cell(h.expiresAt ? when(h.expiresAt) : 'never'),
      cell(h.status === 'posted' ? `posted ${money(h.postedAmount, unit())}` : h.status, 'status'),
      actions,
    );
    return row;
  }

  const amountOf = (input) => minorUnits($(input).value, unit());
  for (const [form, path, done] of [
    ['deposit', 'deposits', 'Deposited'],
    ['withdraw', 'withdrawals', 'Withdrew'],
  ]) {
    onSubmit(
      $(`#${form}-form`),
      async (key) => {
        const moved = await api('POST', `/accounts/${id()}/${path}`, { amount: amountOf(`#${form}-amount`) }, key);
        $(`#${form}-amount`).value = '';
        return `${done} ${money(moved.amount, unit())}.`;
      },
      refresh,
    );
  }
  onSubmit(
    $('#transfer-form'),
    async (key) => {
      const toId = await resolveAccount($('#transfer-to'), 'destination');
      const moved = await api('POST', '/transfers', { fromId: id(), toId, amount: amountOf('#transfer-amount') }, key);
      $('#transfer-amount').value = '';
      return `Transferred ${money(moved.amount, unit())} to ${short(moved.toId)}.`;
    },
    refresh,
  );
  onSubmit(
    $('#hold-form'),
    async (key) => {
      const toText = $('#hold-to').value.trim();
      const minutes = $('#hold-expires').value.trim();
      if (minutes && !/^[1-9][0-9]{0,5}$/.test(minutes)) throw new Error('Expires in must be a whole number of minutes.');
      const body = {
        fromId: id(),
        amount: amountOf('#hold-amount'),
        ...(toText ? { toId: await resolveAccount($('#hold-to'), 'destination') } : {}),
        ...(minutes ? { expiresInMs: Number(minutes) * 60_000 } : {}),
      };
      const hold = await api('POST', '/holds', body, key);
      $('#hold-amount').value = '';
      return `Held ${money(hold.amount, unit())}.`;
    },
    refresh,
  );
  onSubmit(
    $('#close-form'),
    async () => {
      await api('POST', `/accounts/${id()}/close`);
      return `Closed account ${short(id())}.`;
    },
    refresh,
  );
  onSubmit($('#statement-form'), () => downloadStatement());
  $('#history-more').addEventListener('click', () => showHistory(true).catch((e) => say($('#history-result'), e.message, e)));
  $('#holds-more').addEventListener('click', () => showHolds(true).catch((e) => say($('#holds-result'), e.message, e)));

  /** The statement for whole UTC days as CSV: fetched with the token, then saved from memory. */
  async function downloadStatement() {
    const from = $('#statement-from').value;
    const last = $('#statement-to').value;
    if (!from || !last) throw new Error('Pick both days first.');
    const to = new Date(Date.parse(`${last}T00:00:00Z`) + 86_400_000).toISOString();
    const query = new URLSearchParams({ from: `${from}T00:00:00Z`, to });
    const blob = await download(`/accounts/${id()}/statement?${query}`, 'text/csv');
    const link = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(blob),
      download: `statement-${short(id())}-${from}-to-${last}.csv`,
    });
    link.click();
    URL.revokeObjectURL(link.href);
    return `Statement of ${short(id())} from ${from} to ${last} downloaded.`;
  }

  return { show, current: id };
}
