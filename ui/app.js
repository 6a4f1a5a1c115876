// The roachbank web UI: plain modules, no build step. It speaks only the JSON API.
const $ = (selector) => document.querySelector(selector);
const state = { accounts: [], selected: null, token: sessionStorage.getItem('roachbank-token') };

/**
 * One Idempotency-Key per submission: kept until that submission succeeds. A form is
 * its own key's owner; a button on a row (post a hold, reverse a movement) is owned
 * by what it acts on, so repeating a click that failed to arrive moves money once.
 */
const keys = new Map();
const keyFor = (owner) => keys.get(owner) ?? keys.set(owner, crypto.randomUUID()).get(owner);
const submitted = (owner) => keys.delete(owner);

class ApiError extends Error {
  constructor(problem) {
    super(problem.detail ?? problem.title ?? 'request failed');
    this.problem = problem;
  }
}

async function api(method, path, body, key) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = await response.json().catch(() => ({}));
  if (response.status === 401) {
    // The API's own detail speaks to a developer (which header to send); a person needs to know what to do here.
    $('#token-form').hidden = false;
    $('#verify-status').textContent = 'needs a token';
    const refused = Boolean(state.token);
    state.token = null;
    sessionStorage.removeItem('roachbank-token');
    throw new ApiError({
      detail: refused
        ? 'The server did not accept that API token. Enter it again below.'
        : 'This server needs an API token. Enter it below.',
    });
  }
  if (!response.ok) throw new ApiError(payload);
  return payload;
}

function say(text, isError = false) {
  const message = $('#message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
  message.hidden = !text;
}

const short = (id) => (id ? id.slice(0, 8) : '');

/** Minor units as a person reads them: in the currency's decimals, with its code unless it is XXX (none). */
function money(amount, { currency = 'XXX', decimals = 0 } = {}) {
  const negative = amount.startsWith('-');
  const digits = (negative ? amount.slice(1) : amount).padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return `${negative ? '−' : ''}${text}${currency === 'XXX' ? '' : ` ${currency}`}`;
}
/** The currency of a loaded account, for amounts that carry only its id. */
const unitOf = (accountId) => state.accounts.find((a) => a.id === accountId) ?? {};
const when = (iso) => new Date(iso).toLocaleString();
function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function loadAccounts() {
  const all = [];
  let cursor = null;
  do {
    const page = await api('GET', `/accounts?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.items);
    cursor = page.next;
  } while (cursor);
  state.accounts = all;
  const body = $('#accounts tbody');
  body.replaceChildren(
    ...(all.length === 0
      ? [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="7" class="empty">No accounts yet.</td>' })]
      : all.map((account) => {
          const row = document.createElement('tr');
          row.dataset.id = account.id;
          row.classList.toggle('selected', account.id === state.selected);
          const id = cell('');
          id.append(Object.assign(document.createElement('code'), { textContent: account.id, title: account.id }));
          row.append(
            id,
            cell(money(account.balance, account), 'num balance'),
            cell(money(account.held, account), 'num held'),
            cell(money(account.available, account), 'num available'),
            cell(account.creditLimit === '0' ? '' : money(account.creditLimit, account), 'num credit'),
            cell(when(account.createdAt)),
            cell(account.closedAt ? 'closed' : 'open'),
          );
          row.addEventListener('click', () => showAccount(account.id));
          return row;
        })),
  );
  for (const select of [$('#transfer-from'), $('#transfer-to'), $('#hold-from'), $('#hold-to')]) {
    const previous = select.value;
    const none = select.id === 'hold-to' ? [select.options[0]] : [];
    select.replaceChildren(
      ...none,
      ...all
        .filter((a) => !a.closedAt)
        .map((a) =>
          Object.assign(document.createElement('option'), {
            value: a.id,
            textContent: `${short(a.id)} (${money(a.available, a)})`,
          }),
        ),
    );
    if ((none.length > 0 && previous === '') || all.some((a) => a.id === previous)) select.value = previous;
  }
  if (all.length > 1 && $('#transfer-to').value === $('#transfer-from').value) $('#transfer-to').selectedIndex = 1;
}

/** A button that runs `work` once per click, with the outcome said in the message line. */
function action(label, work) {
  const button = Object.assign(document.createElement('button'), { type: 'button', textContent: label, className: 'row-action' });
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    button.disabled = true;
    try {
      say(await work());
      await refresh();
    } catch (error) {
      say(error.message, true);
      button.disabled = false;
    }
  });
  return button;
}

async function showAccount(accountId) {
  state.selected = accountId;
  for (const row of document.querySelectorAll('#accounts tbody tr'))
    row.classList.toggle('selected', row.dataset.id === accountId);
  await Promise.all([showHistory(accountId), showHolds(accountId)]);
}

async function showHolds(accountId) {
  $('#holds-account').textContent = short(accountId);
  const page = await api('GET', `/accounts/${accountId}/holds?limit=100`);
  const rows = page.items.map((h) => {
    const row = document.createElement('tr');
    row.dataset.hold = h.id;
    const actions = cell('');
    if (h.status === 'pending') {
      const post = action('Post', async () => {
        const posted = await api('POST', `/holds/${h.id}/post`, {}, keyFor(`post:${h.id}`));
        submitted(`post:${h.id}`);
        return `Posted ${money(posted.amount, unitOf(h.fromId))} of hold ${short(h.id)}.`;
      });
      const release = action('Void', async () => {
        await api('POST', `/holds/${h.id}/void`);
        return `Voided hold ${short(h.id)}.`;
      });
      actions.append(post, release);
    }
    row.append(
      cell(when(h.createdAt)),
      cell(money(h.amount, unitOf(h.fromId)), 'num'),
      cell(h.toId ? short(h.toId) : 'withdrawal'),
      cell(h.expiresAt ? when(h.expiresAt) : 'never'),
      cell(h.status === 'posted' ? `posted ${money(h.postedAmount, unitOf(h.fromId))}` : h.status, 'status'),
      actions,
    );
    return row;
  });
  $('#holds tbody').replaceChildren(
    ...(rows.length
      ? rows
      : [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="6" class="empty">No holds.</td>' })]),
  );
}

async function showHistory(accountId) {
  $('#history-account').textContent = short(accountId);
  const page = await api('GET', `/accounts/${accountId}/transfers?limit=100`);
  const rows = page.items.map((t) => {
    const incoming = t.toId === accountId;
    const kind = t.fromId === null ? 'deposit' : t.toId === null ? 'withdrawal' : incoming ? 'transfer in' : 'transfer out';
    // The account's running balance after this movement (none for a row not yet numbered).
    const balanceAfter = incoming ? t.toBalanceAfter : t.fromBalanceAfter;
    const row = document.createElement('tr');
    row.dataset.transfer = t.id;
    const reverse = action('Reverse', async () => {
      const reversal = await api('POST', `/transfers/${t.id}/reversals`, {}, keyFor(`reverse:${t.id}`));
      submitted(`reverse:${t.id}`);
      return `Reversed ${reversal.amount} of ${short(t.id)}.`;
    });
    row.append(
      cell(when(t.createdAt)),
      cell(t.reversalOf ? `${kind} (reversal)` : t.holdId ? `${kind} (hold posted)` : kind),
      cell(`${incoming ? '+' : '−'}${money(t.amount, unitOf(accountId))}`, 'num'),
      cell(balanceAfter === null ? '' : money(balanceAfter, unitOf(accountId)), 'num balance-after'),
      cell(short(incoming ? t.fromId : t.toId)),
      Object.assign(cell(t.reference ?? ''), { title: t.metadata ? JSON.stringify(t.metadata) : '' }),
      Object.assign(cell(''), { className: 'actions' }),
    );
    row.lastChild.append(reverse);
    return row;
  });
  $('#history tbody').replaceChildren(
    ...(rows.length
      ? rows
      : [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="7" class="empty">No transfers.</td>' })]),
  );
  const today = new Date().toISOString().slice(0, 10);
  for (const input of [$('#statement-from'), $('#statement-to')]) input.value ||= today;
  $('#statement-form').hidden = false;
}

/**
 * Downloads the selected account's statement for whole UTC days as CSV: fetched with the
 * token (a plain link could not carry it), then saved from the browser's memory.
 */
async function downloadStatement() {
  const accountId = state.selected;
  const from = $('#statement-from').value;
  const last = $('#statement-to').value;
  if (!accountId || !from || !last) throw new ApiError({ detail: 'Pick an account and both days first.' });
  const to = new Date(Date.parse(`${last}T00:00:00Z`) + 86_400_000).toISOString();
  const headers = { accept: 'text/csv' };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const query = new URLSearchParams({ from: `${from}T00:00:00Z`, to });
  const response = await fetch(`/accounts/${accountId}/statement?${query}`, { headers });
  if (!response.ok) throw new ApiError(await response.json().catch(() => ({})));
  const link = Object.assign(document.createElement('a'), {
    href: URL.createObjectURL(await response.blob()),
    download: `statement-${short(accountId)}-${from}-to-${last}.csv`,
  });
  link.click();
  URL.revokeObjectURL(link.href);
  return `Statement of ${short(accountId)} from ${from} to ${last} downloaded.`;
}

async function loadVerify() {
  const badge = $('#verify-status');
  try {
    const report = await api('GET', '/verify');
    badge.textContent = report.ok ? `verified: ${report.accounts} accounts, ${report.transfers} transfers` : 'invariants FAILED';
    badge.className = `badge ${report.ok ? 'ok' : 'failed'}`;
  } catch (error) {
    badge.textContent = `verify: ${error.message}`;
    badge.className = 'badge failed';
  }
}

async function refresh() {
  await loadAccounts();
  if (state.selected) await showAccount(state.selected);
  await loadVerify();
}

function onSubmit(form, work) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = keyFor(form);
    try {
      say(await work(key));
      submitted(form);
      await refresh();
    } catch (error) {
      say(error.message, true);
    }
  });
}

onSubmit($('#create-form'), async (key) => {
  const body = {};
  for (const [field, input] of [
    ['balance', '#create-balance'],
    ['currency', '#create-currency'],
    ['creditLimit', '#create-credit'],
  ]) {
    const value = $(input).value.trim();
    if (value) body[field] = field === 'currency' ? value.toUpperCase() : value;
  }
  const account = await api('POST', '/accounts', body, key);
  for (const input of ['#create-balance', '#create-currency', '#create-credit']) $(input).value = '';
  return `Opened account ${short(account.id)} with ${money(account.balance, account)}.`;
});

onSubmit($('#transfer-form'), async (key) => {
  const body = { fromId: $('#transfer-from').value, toId: $('#transfer-to').value, amount: $('#transfer-amount').value.trim() };
  const transfer = await api('POST', '/transfers', body, key);
  return `Transferred ${transfer.amount} from ${short(transfer.fromId)} to ${short(transfer.toId)}.`;
});

onSubmit($('#hold-form'), async (key) => {
  const minutes = $('#hold-expires').value.trim();
  const body = {
    fromId: $('#hold-from').value,
    amount: $('#hold-amount').value.trim(),
    ...($('#hold-to').value ? { toId: $('#hold-to').value } : {}),
    ...(minutes ? { expiresInMs: Number(minutes) * 60_000 } : {}),
  };
  const hold = await api('POST', '/holds', body, key);
  if (state.selected !== hold.fromId) state.selected = hold.fromId;
  $('#hold-amount').value = '';
  return `Held ${hold.amount} of ${short(hold.fromId)}.`;
});

$('#token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  state.token = $('#token').value;
  sessionStorage.setItem('roachbank-token', state.token);
  $('#token-form').hidden = true;
  say('');
  await refresh().catch((error) => say(error.message, true));
});

refresh().catch((error) => say(error.message, true));

onSubmit($('#statement-form'), () => downloadStatement());
