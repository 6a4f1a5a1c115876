// The roachbank web UI: plain modules, no build step. It speaks only the JSON API.
const $ = (selector) => document.querySelector(selector);
const state = { accounts: [], selected: null, token: sessionStorage.getItem('roachbank-token') };

/** One Idempotency-Key per form submission: kept until that submission succeeds. */
const keys = new Map();
const keyFor = (form) => keys.get(form) ?? keys.set(form, crypto.randomUUID()).get(form);
const submitted = (form) => keys.delete(form);

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
      ? [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="4" class="empty">No accounts yet.</td>' })]
      : all.map((account) => {
          const row = document.createElement('tr');
          row.dataset.id = account.id;
          row.classList.toggle('selected', account.id === state.selected);
          const id = cell('');
          id.append(Object.assign(document.createElement('code'), { textContent: account.id, title: account.id }));
          row.append(
            id,
            cell(account.balance, 'num balance'),
            cell(when(account.createdAt)),
            cell(account.closedAt ? 'closed' : 'open'),
          );
          row.addEventListener('click', () => showHistory(account.id));
          return row;
        })),
  );
  for (const select of [$('#transfer-from'), $('#transfer-to')]) {
    const previous = select.value;
    select.replaceChildren(
      ...all
        .filter((a) => !a.closedAt)
        .map((a) =>
          Object.assign(document.createElement('option'), { value: a.id, textContent: `${short(a.id)} (${a.balance})` }),
        ),
    );
    if (all.some((a) => a.id === previous)) select.value = previous;
  }
  if (all.length > 1 && $('#transfer-to').value === $('#transfer-from').value) $('#transfer-to').selectedIndex = 1;
}

async function showHistory(accountId) {
  state.selected = accountId;
  $('#history-account').textContent = short(accountId);
  for (const row of document.querySelectorAll('#accounts tbody tr'))
    row.classList.toggle('selected', row.dataset.id === accountId);
  const page = await api('GET', `/accounts/${accountId}/transfers?limit=100`);
  const rows = page.items.map((t) => {
    const incoming = t.toId === accountId;
    const kind = t.fromId === null ? 'deposit' : t.toId === null ? 'withdrawal' : incoming ? 'transfer in' : 'transfer out';
    const row = document.createElement('tr');
    row.append(
      cell(when(t.createdAt)),
      cell(kind),
      cell(`${incoming ? '+' : '−'}${t.amount}`, 'num'),
      cell(short(incoming ? t.fromId : t.toId)),
    );
    return row;
  });
  $('#history tbody').replaceChildren(
    ...(rows.length
      ? rows
      : [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="4" class="empty">No transfers.</td>' })]),
  );
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
  if (state.selected) await showHistory(state.selected);
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
  const balance = $('#create-balance').value.trim();
  const account = await api('POST', '/accounts', balance ? { balance } : {}, key);
  $('#create-balance').value = '';
  return `Opened account ${short(account.id)} with ${account.balance}.`;
});

onSubmit($('#transfer-form'), async (key) => {
  const body = { fromId: $('#transfer-from').value, toId: $('#transfer-to').value, amount: $('#transfer-amount').value.trim() };
  const transfer = await api('POST', '/transfers', body, key);
  return `Transferred ${transfer.amount} from ${short(transfer.fromId)} to ${short(transfer.toId)}.`;
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
