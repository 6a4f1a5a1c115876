// A field that names another account (the other side of a transfer or a hold): typed, not
// picked from a list of every account. As it is typed, up to 10 accounts that match (by the
// start of their id, or by reference) are offered; on submit it must name exactly one.

import { searchQuery } from './account-list.js';
import { api } from './api.js';
import { money, short } from './format.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function matches(text) {
  const query = new URLSearchParams({ ...searchQuery(text), limit: '10' });
  return (await api('GET', `/accounts?${query}`)).items;
}

/** Offers matches in the input's datalist while it is typed. */
export function offerMatches(input) {
  const list = document.getElementById(input.getAttribute('list'));
  let asked = 0;
  input.addEventListener('input', async () => {
    const text = input.value.trim();
    const ask = ++asked;
    if (text.length < 3 || uuid.test(text)) return list.replaceChildren();
    const found = await matches(text).catch(() => []);
    if (ask !== asked) return; // a later keystroke asked again
    list.replaceChildren(
      ...found.map((account) =>
        Object.assign(document.createElement('option'), {
          value: account.id,
          label: `${short(account.id)} · ${money(account.available, account)}${account.reference ? ` · ${account.reference}` : ''}`,
        }),
      ),
    );
  });
}

/** The one account id a field names; a clear error when it names none or several. */
export async function resolveAccount(input, what) {
  const text = input.value.trim();
  if (!text) throw new Error(`Type the ${what}'s id, its first 8 characters, or its reference.`);
  if (uuid.test(text)) return text.toLowerCase();
  const found = await matches(text);
  if (found.length === 1) return found[0].id;
  throw new Error(
    found.length === 0
      ? `No account matches "${text}" for the ${what}.`
      : `More than one account matches "${text}" for the ${what}: type more of its id.`,
  );
}
