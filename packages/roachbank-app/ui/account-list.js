// The list of accounts: one page at a time from the server (keyset cursors, newest or
// oldest first, a page size the reader picks), or the accounts a search finds by id,
// by the first 8 or more characters of one, or by reference. Nothing loads the whole book.
import { api } from './api.js';
import { cell, emptyRow, idCell, money, when } from './format.js';

const $ = (selector) => document.querySelector(selector);
const idPrefixPattern = /^[0-9a-f]{8}(-[0-9a-f-]{0,27})?$/i;

/** The request a search asks: an id prefix when it looks like the start of an id, else a reference. */
export function searchQuery(text) {
  const typed = text.trim();
  return idPrefixPattern.test(typed) ? { idPrefix: typed.toLowerCase() } : { reference: typed };
}

export function accountList({ onPick }) {
  const state = { cursors: [null], search: null, picked: null, accounts: new Map() };
  const pageSize = () => Number($('#page-size').value);

  async function load() {
    const query = new URLSearchParams({ limit: String(pageSize()) });
    const cursor = state.cursors.at(-1);
    if (cursor) query.set('cursor', cursor);
    if (state.search) for (const [field, value] of Object.entries(state.search)) query.set(field, value);
    else query.set('order', $('#order').value);
    const page = await api('GET', `/accounts?${query}`);
    show(page);
    return page;
  }

  function show(page) {
    for (const account of page.items) state.accounts.set(account.id, account);
    const body = $('#accounts tbody');
    body.replaceChildren(
      ...(page.items.length === 0
        ? [emptyRow(6, state.search ? 'No account matches.' : 'No accounts yet.')]
        : page.items.map((account) => {
            const row = document.createElement('tr');
            row.dataset.id = account.id;
            row.classList.toggle('selected', account.id === state.picked);
            const open = Object.assign(document.createElement('button'), {
              type: 'button',
              className: 'row-action',
              textContent: 'Open',
            });
            open.setAttribute('aria-label', `Open account ${account.id}`);
            open.addEventListener('click', (event) => {
              event.stopPropagation();
              onPick(account.id);
            });
            row.append(
              idCell(account.id),
              cell(money(account.balance, account), 'num balance'),
              cell(money(account.available, account), 'num available'),
              cell(account.currency === 'XXX' ? '' : account.currency, 'currency'),
              cell(account.closedAt ? 'closed' : `opened ${when(account.createdAt)}`, 'status'),
              Object.assign(cell(''), { className: 'actions' }),
            );
            row.lastChild.append(open);
            row.addEventListener('click', () => onPick(account.id));
            return row;
          })),
    );
    const number = state.cursors.length;
    $('#accounts-previous').disabled = number === 1;
    $('#accounts-next').disabled = page.next === null;
    $('#accounts-next').dataset.cursor = page.next ?? '';
    $('#accounts-page-label').textContent = `${state.search ? 'Found' : 'Page'} ${number}: ${page.items.length} account${
      page.items.length === 1 ? '' : 's'
    }`;
    $('#find-clear').hidden = !state.search;
  }

  const restart = () => {
    state.cursors = [null];
    return load();
  };
  $('#accounts-next').addEventListener('click', () => {
    state.cursors.push($('#accounts-next').dataset.cursor);
    return load();
  });
  $('#accounts-previous').addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    return load();
  });
  $('#order').addEventListener('change', restart);
  $('#page-size').addEventListener('change', restart);
  $('#find-clear').addEventListener('click', () => {
    state.search = null;
    $('#find').value = '';
    return restart();
  });

  return {
    load,
    /** Shows what a search finds; a search that finds one account opens it. */
    async find(text) {
      state.search = searchQuery(text);
      state.cursors = [null];
      const page = await load();
      if (page.items.length === 1 && page.next === null) onPick(page.items[0].id);
      return page;
    },
    /** Marks the account shown on the account page. */
    pick(id) {
      state.picked = id;
      for (const row of document.querySelectorAll('#accounts tbody tr[data-id]'))
        row.classList.toggle('selected', row.dataset.id === id);
    },
  };
}
