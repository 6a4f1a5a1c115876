// The roachbank console: plain modules, no build step, speaking only the JSON API. This
// file wires its parts: the token, the database banner, the account list, one account's
// page and the live panel. Each part is a file named after what it shows.
import { accountList } from './account-list.js';
import { accountPage } from './account-page.js';
import { offerMatches } from './account-picker.js';
import { ApiError, api, on, useToken } from './api.js';
import { minorUnits, money, short } from './format.js';
import { onSubmit, say } from './forms.js';
import { systemPanel } from './system-panel.js';

const $ = (selector) => document.querySelector(selector);
const message = $('#message');

const list = accountList({ onPick: (id) => pick(id) });
const account = accountPage({ changed: () => list.load() });
const panel = systemPanel();

async function pick(id) {
  list.pick(id);
  try {
    await account.show(id, { focus: true });
  } catch (error) {
    say(message, error.message, error);
  }
}

/** Everything on screen read again: after a token is given, or when the database is back. */
async function reload() {
  await list.load();
  if (account.current()) await account.show(account.current());
}

// A server with a token: until one works, the token form and nothing else.
on('locked', (refused) => {
  document.body.dataset.locked = 'true';
  $('#token-form').hidden = false;
  $('#verify-status').textContent = 'needs a token';
  $('#verify-status').className = 'badge';
  say(
    message,
    refused
      ? 'The server did not accept that API token. Enter it again below.'
      : 'This server needs an API token. Enter it below.',
    new ApiError({}),
  );
  $('#token').focus();
});
$('#token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  useToken($('#token').value);
  $('#token').value = '';
  try {
    await list.load();
  } catch {
    return; // refused again: `locked` has said so
  }
  delete document.body.dataset.locked;
  $('#token-form').hidden = true;
  say(message, '');
  await reload().catch((error) => say(message, error.message, error));
  panel.start();
});

// The database down: a banner, the figures marked stale, and recovery by itself.
on('down', () => {
  document.body.dataset.stale = 'true';
  $('#db-banner').hidden = false;
  $('#db-since').textContent = new Date().toLocaleTimeString();
});
on('up', async () => {
  await reload().catch(() => {});
  delete document.body.dataset.stale;
  $('#db-banner').hidden = true;
});

$('#find-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = $('#find').value.trim();
  const result = $('#find-form .form-result');
  if (!text) return say(result, 'Type an id, its first 8 characters, or a reference.', new ApiError({}));
  try {
    const page = await list.find(text);
    say(result, page.items.length === 0 ? `No account matches "${text}".` : '');
  } catch (error) {
    say(result, error.message, error);
  }
});

onSubmit(
  $('#create-form'),
  async (key) => {
    const body = {};
    const currency = $('#create-currency').value.trim().toUpperCase();
    if (currency) body.currency = currency;
    // Amounts in the currency's decimals: the server says how many when it answers, so
    // an opening balance is typed in minor units here, as its label says.
    for (const [field, input] of [
      ['balance', '#create-balance'],
      ['creditLimit', '#create-credit'],
    ]) {
      const typed = $(input).value.trim();
      if (typed) body[field] = typed === '0' ? '0' : minorUnits(typed);
    }
    const opened = await api('POST', '/accounts', body, key);
    for (const input of ['#create-balance', '#create-currency', '#create-credit']) $(input).value = '';
    pick(opened.id);
    return `Opened account ${short(opened.id)} with ${money(opened.balance, opened)}.`;
  },
  () => list.load(),
);

offerMatches($('#transfer-to'));
offerMatches($('#hold-to'));

list
  .load()
  .then(() => panel.start())
  .catch((error) => {
    if (error.code !== 'UNAUTHORIZED') say(message, error.message, error);
  });
