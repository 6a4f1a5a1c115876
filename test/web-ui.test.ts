/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The console in a real browser (Debian's chromium through playwright-core), checked by
// what a person sees: the browser's own visibility (layout, CSS, `hidden`) and text on
// screen, not only the DOM; every state worth looking at is saved as a screenshot in
// test-results/ui/, at 1280 and at 390 px wide.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { startTestServer, type TestServer } from './support/http-server.js';
import { createTestDatabase } from './support/test-database.js';
import { startWireProxy } from './support/wire-proxy.js';

// Debian's chromium; test/run-tests.ts installs it with apt when it is missing.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = new URL('../test-results/ui/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server: TestServer;
let browser: Browser;
let page: Page;

before(async () => {
  assert.ok(existsSync(executablePath), `no browser at ${executablePath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  server = await startTestServer({ name: 'web_ui' });
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const shoot = (name: string, on: Page = page) => on.screenshot({ path: `${shots}${name}.png`, fullPage: true });
const visible = (selector: string, on: Page = page) => on.isVisible(selector);
/** The text a form's result shows once it shows one that matches. */
async function resultOf(form: string, pattern: RegExp, on: Page = page): Promise<string> {
  const result = on.locator(`${form} .form-result`);
  await result.filter({ hasText: pattern }).waitFor({ state: 'visible' });
  return (await result.textContent()) ?? '';
}
async function post(path: string, body: unknown) {
  const response = await fetch(`${server.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) assert.fail(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}
/** Opens an account's page through the search field, as a person would with its id. */
async function openAccount(id: string, on: Page = page) {
  await on.fill('#find', id);
  await on.click('#find-form button[type="submit"]');
  await on.locator('#account-id', { hasText: id }).waitFor({ state: 'visible' });
}
const noSidewaysScroll = (on: Page) => on.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('the console in a real browser', () => {
  test('opens at once on 100,000 accounts: one page is asked and shown, pages follow, an id prefix finds one', async () => {
    await server.db.pool.query(`INSERT INTO roachbank.accounts (id, balance, created_at, sequence)
      SELECT gen_random_uuid(), 0, now() - (i * INTERVAL '1 second'), 0 FROM generate_series(1, 100000) AS i`);
    await server.db.pool.query('ANALYZE roachbank.accounts');
    const asked: string[] = [];
    const listens = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname === '/accounts') asked.push(url.search);
    };
    page.on('request', listens);
    const started = Date.now();
    await page.goto(server.base);
    const firstRow = page.locator('#accounts tbody tr[data-id]').first();
    await firstRow.waitFor({ state: 'visible', timeout: 30_000 });
    const shownAfterMs = Date.now() - started;
    assert.equal(await page.locator('#accounts tbody tr[data-id]').count(), 25, 'one page of the default size');
    assert.match((await page.textContent('#accounts-page-label')) ?? '', /Page 1: 25 accounts/);
    await page.waitForTimeout(500); // anything the page would ask after its first render
    page.off('request', listens);
    assert.ok(asked.length <= 2, `at most two pages of accounts asked on load, got ${JSON.stringify(asked)}`);
    assert.ok(
      asked.every((q) => new URLSearchParams(q).get('limit') === '25'),
      `pages of 25, never the whole book: ${JSON.stringify(asked)}`,
    );
    console.log(`first page of 100,000 accounts visible after ${shownAfterMs} ms`);
    await shoot('1-accounts-first-page');

    const ids = () => page.$$eval('#accounts tbody tr[data-id]', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
    const first = await ids();
    await page.click('#accounts-next');
    await page.locator('#accounts-page-label', { hasText: 'Page 2' }).waitFor();
    const second = await ids();
    assert.equal(second.length, 25);
    assert.ok(!second.some((id) => first.includes(id)), 'the next page holds other accounts');
    await page.click('#accounts-previous');
    await page.locator('#accounts-page-label', { hasText: 'Page 1' }).waitFor();
    assert.deepEqual(await ids(), first);
    await page.selectOption('#page-size', '10');
    await page.locator('#accounts-page-label', { hasText: 'Page 1: 10 accounts' }).waitFor();
    await page.selectOption('#order', 'oldest');
    await page.waitForFunction(
      (newest) => document.querySelector('#accounts tbody tr[data-id]')?.getAttribute('data-id') !== newest,
      first[0],
    );
    const { rows } = await server.db.pool.query('SELECT id FROM roachbank.accounts ORDER BY created_at, id LIMIT 1');
    assert.equal((await ids())[0], rows[0].id, 'oldest first starts at the oldest account');
    await page.selectOption('#order', 'newest');
    await page.selectOption('#page-size', '25');

    // Found by the first 8 characters of its id: the only match opens.
    const target = second[3]!;
    await page.fill('#find', target.slice(0, 8).toUpperCase());
    await page.click('#find-form button[type="submit"]');
    await page.locator('#account-id', { hasText: target }).waitFor({ state: 'visible' });
    assert.equal(await visible('#account-section'), true, "the account's page is on the screen");
    assert.ok(
      (await ids()).every((id) => id.startsWith(target.slice(0, 8))),
      'the list shows what was found',
    );
    assert.equal(await visible('#find-clear'), true);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'account-title', 'focus moved to the account');
    // Found by reference: anything that is not the start of an id is one.
    const referenced = (await post('/accounts', { reference: 'payout batch 9' })).id;
    await page.fill('#find', 'payout batch 9');
    await page.click('#find-form button[type="submit"]');
    await page.locator('#account-id', { hasText: referenced }).waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#fact-reference'), 'payout batch 9');
    await page.fill('#find', 'ffffffff-ffff');
    await page.click('#find-form button[type="submit"]');
    assert.match(await resultOf('#find-form', /No account matches/), /No account matches "ffffffff-ffff"/);
    await page.click('#find-clear');
    await page.locator('#accounts-page-label', { hasText: 'Page 1: 25 accounts' }).waitFor();
    await shoot('2-account-found');
  });

  test('every form: its success and its refusal on screen next to it, with the code, and money moved once', async () => {
    const pool = server.db.pool;
    // Opened on screen: a USD account of 100.00.
    await page.click('#open-account summary');
    await page.fill('#create-balance', '10000');
    await page.fill('#create-currency', 'usd');
    await page.click('#create-submit');
    assert.match(await resultOf('#create-form', /Opened account/), /Opened account [0-9a-f]{8} with 100\.00 USD\./);
    await page.locator('#fact-balance', { hasText: '100.00 USD' }).waitFor({ state: 'visible' });
    const card = (await page.textContent('#account-id'))!;
    await page.fill('#create-currency', 'u$d');
    await page.click('#create-submit');
    assert.match(await resultOf('#create-form', /currency/i), /\(INVALID_ARGUMENT\)$/);
    const shop = (await post('/accounts', { currency: 'USD' })).id;
    const euro = (await post('/accounts', { currency: 'EUR', balance: '500' })).id;
    await openAccount(card);

    await page.fill('#deposit-amount', '2.50');
    await page.click('#deposit-submit');
    assert.equal(await resultOf('#deposit-form', /Deposited/), 'Deposited 2.50 USD.');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'form-result', 'focus moved to the outcome');
    await page.locator('#fact-balance', { hasText: '102.50 USD' }).waitFor({ state: 'visible' });
    await page.fill('#deposit-amount', '2.505');
    await page.click('#deposit-submit');
    assert.match(await resultOf('#deposit-form', /decimals/), /at most 2 decimals USD, got "2\.505"/);

    await page.fill('#withdraw-amount', '1000');
    await page.click('#withdraw-submit');
    assert.match(await resultOf('#withdraw-form', /INSUFFICIENT_FUNDS/), /\(INSUFFICIENT_FUNDS\)$/);
    await page.fill('#withdraw-amount', '0.50');
    await page.click('#withdraw-submit');
    assert.equal(await resultOf('#withdraw-form', /Withdrew/), 'Withdrew 0.50 USD.');

    // The other side typed as the first 8 characters of its id; a double click pays once.
    await page.fill('#transfer-to', shop.slice(0, 8));
    await page.fill('#transfer-amount', '10');
    await page.dblclick('#transfer-submit');
    assert.equal(await resultOf('#transfer-form', /Transferred/), `Transferred 10.00 USD to ${shop.slice(0, 8)}.`);
    await page.waitForTimeout(300); // a second payment, if the double click made one, would land here
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE to_id = $1', [shop])).rows[0].n, 1);
    await page.fill('#transfer-to', euro);
    await page.fill('#transfer-amount', '1');
    await page.click('#transfer-submit');
    assert.match(await resultOf('#transfer-form', /CURRENCY_MISMATCH/), /different currencies.*\(CURRENCY_MISMATCH\)$/);
    await page.fill('#transfer-to', 'ffffffff');
    await page.click('#transfer-submit');
    assert.equal(await resultOf('#transfer-form', /No account/), 'No account matches "ffffffff" for the destination.');
    await page.locator('#fact-balance', { hasText: '92.00 USD' }).waitFor({ state: 'visible' });

    // A hold for the shop: held, then posted from its row; another voided; one too large refused.
    await page.fill('#hold-to', shop);
    await page.fill('#hold-amount', '5');
    await page.fill('#hold-expires', '15');
    await page.click('#hold-submit');
    assert.equal(await resultOf('#hold-form', /Held/), 'Held 5.00 USD.');
    await page.locator('#fact-available', { hasText: '87.00 USD' }).waitFor({ state: 'visible' });
    const postButton = page.locator('#holds tbody tr[data-hold] button', { hasText: 'Post' });
    assert.equal(await postButton.isVisible(), true, 'a pending hold offers Post');
    await shoot('3-hold-pending');
    await postButton.click();
    await page.locator('#holds-result', { hasText: 'Posted 5.00 USD' }).waitFor({ state: 'visible' });
    await page.locator('#holds tbody tr[data-hold] .status', { hasText: 'posted 5.00 USD' }).waitFor({ state: 'visible' });
    assert.equal(await postButton.count(), 0, 'a posted hold offers nothing more');
    await page.fill('#hold-to', '');
    await page.fill('#hold-amount', '1');
    await page.fill('#hold-expires', '');
    await page.click('#hold-submit');
    await resultOf('#hold-form', /Held 1\.00/);
    await page.locator('#holds tbody tr[data-hold] button', { hasText: 'Void' }).click();
    await page.locator('#holds-result', { hasText: /Voided hold/ }).waitFor({ state: 'visible' });
    await page.fill('#hold-amount', '99999');
    await page.click('#hold-submit');
    assert.match(await resultOf('#hold-form', /INSUFFICIENT_FUNDS/), /\(INSUFFICIENT_FUNDS\)$/);
    // A hold settled behind the page's back: its Void still shows, and the refusal says why.
    await page.fill('#hold-amount', '1');
    await page.click('#hold-submit');
    await resultOf('#hold-form', /Held 1\.00/);
    const pendingId = await page.getAttribute('#holds tbody tr[data-hold]:has(button.row-action)', 'data-hold');
    await post(`/holds/${pendingId}/void`, {});
    await page.locator(`#holds tbody tr[data-hold="${pendingId}"] button`, { hasText: 'Post' }).click();
    await page.locator('#holds-result.error').waitFor({ state: 'visible' });
    assert.match((await page.textContent('#holds-result')) ?? '', /\([A-Z_]+\)$/, 'the refusal names its code');
    await page.locator(`#holds tbody tr[data-hold="${pendingId}"] .status`, { hasText: 'voided' }).waitFor({ state: 'visible' });

    // The posted hold's movement reversed from the history; reversing it again is refused.
    const newest = page.locator('#history tbody tr[data-transfer]').first();
    assert.match((await newest.textContent()) ?? '', /hold posted/);
    assert.equal(await newest.locator('.balance-after').textContent(), '87.00 USD', 'the balance after it');
    await newest.locator('button', { hasText: 'Reverse' }).click();
    await page.locator('#history-result', { hasText: 'Reversed 5.00 USD' }).waitFor({ state: 'visible' });
    await page.locator('#fact-balance', { hasText: '92.00 USD' }).waitFor({ state: 'visible' });
    const reversed = page.locator('#history tbody tr[data-transfer]', { hasText: 'hold posted' });
    await reversed.locator('button', { hasText: 'Reverse' }).click();
    await page.locator('#history-result.error').waitFor({ state: 'visible' });
    assert.match((await page.textContent('#history-result')) ?? '', /\([A-Z_]+\)$/, 'the refusal names its code');

    // The statement of today as CSV, closing at the balance shown; a period that ends before it starts is refused.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#statement-submit')]);
    assert.match(download.suggestedFilename(), /^statement-[0-9a-f]{8}-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'sequence,created_at,kind,transfer_id,counterparty_id,reference,change,balance_after');
    assert.match(csv.at(-1)!, /,closing,,,,,9200$/, 'it closes at the balance on the screen, in minor units');
    assert.match(await resultOf('#statement-form', /downloaded/), /^Statement of [0-9a-f]{8} from .* downloaded\.$/);
    await page.fill('#statement-from', '2030-01-05');
    await page.fill('#statement-to', '2030-01-01');
    await page.click('#statement-submit');
    assert.match(await resultOf('#statement-form', /INVALID_ARGUMENT/), /\(INVALID_ARGUMENT\)$/);

    // Closing: refused while money is there, done on an empty account, whose forms then go.
    await page.click('#close-submit');
    assert.match(await resultOf('#close-form', /ACCOUNT_NOT_EMPTY/), /\(ACCOUNT_NOT_EMPTY\)$/);
    const empty = (await post('/accounts', {})).id;
    await openAccount(empty);
    await page.click('#close-submit');
    await page.locator('#fact-status', { hasText: 'closed' }).waitFor({ state: 'visible' });
    assert.equal(await visible('#deposit-form'), false, 'a closed account offers no money forms');
    assert.equal(await visible('#close-form'), false);
    assert.equal((await (await fetch(`${server.base}/verify`)).json()).ok, true);
    await openAccount(card);
    await shoot('4-account-page');
  });

  test('the live panel: movements, latency, retries, batches and the pool as charts, and verify from its button', async () => {
    for (let i = 0; i < 5; i++)
      await post(`/accounts/${(await post('/accounts', { balance: '5' })).id}/withdrawals`, { amount: '1' });
    // Some interval of the last ones moved money: its chart's latest value is not 0 for long.
    await page.waitForFunction(
      () => /^(?!0\/s)[0-9.]+\/s$/.test(document.querySelector('#chart-movements .chart-value')?.textContent ?? ''),
      null,
      {
        timeout: 15_000,
      },
    );
    for (const chart of ['movements', 'latency', 'retries', 'ambiguous', 'batch', 'pool']) {
      assert.equal(await visible(`#chart-${chart} svg`), true, `the ${chart} chart is on the screen`);
      const points = await page.getAttribute(`#chart-${chart} polyline`, 'points');
      assert.ok((points ?? '').split(' ').length >= 2, `the ${chart} chart has a line: ${points}`);
    }
    assert.match((await page.textContent('#chart-latency .chart-value')) ?? '', /ms/);
    await page.click('#verify-run');
    await page.locator('#verify-result', { hasText: 'All invariants hold' }).waitFor({ state: 'visible' });
    assert.match((await page.textContent('#verify-result')) ?? '', /Per currency, in minor units: EUR: .*USD: .*XXX: /);
    assert.equal(await page.textContent('#verify-status'), 'verified');
    await shoot('5-live-panel');
  });

  test('on a 390 px phone: no sideways scrolling of the page, ids shortened with the whole id on hover', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(server.base);
      await phone.locator('#accounts tbody tr[data-id]').first().waitFor({ state: 'visible' });
      assert.equal(await noSidewaysScroll(phone), true, 'the list fits');
      const id = phone.locator('#accounts tbody tr[data-id] code').first();
      const whole = (await id.getAttribute('title'))!;
      assert.equal(await id.textContent(), whole.slice(0, 8));
      await openAccount(whole, phone);
      assert.equal(await noSidewaysScroll(phone), true, "the account's page fits");
      assert.equal(await phone.isVisible('#deposit-submit'), true);
      await shoot('6-phone-account', phone);
      await phone.goto(server.base);
      await phone.locator('#accounts tbody tr[data-id]').first().waitFor({ state: 'visible' });
      await shoot('6-phone-list', phone);
    } finally {
      await phone.close();
    }
  });

  test('axe-core finds no WCAG A or AA violation (labels, contrast, names) on the list and an account page', async () => {
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: { run(c: unknown, o: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> };
        }
      ).axe;
      const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    assert.deepEqual(violations, []);
    // Keyboard order follows the page: nothing jumps the queue with a positive tabindex.
    assert.equal(await page.locator('[tabindex]:not([tabindex="-1"]):not([tabindex="0"])').count(), 0);
  });
});

describe('the console when the database goes away', () => {
  test('a banner says so, the figures are marked stale, and it recovers by itself when the database is back', async () => {
    const db = await createTestDatabase('web_ui_down');
    await ensureSchema(db.pool);
    const proxy = await startWireProxy(Number(new URL(db.url).port));
    const pool = createPool(proxy.urlThrough(db.url), { max: 4, connectTimeoutMs: 2000 });
    const app = await buildServer({ pool });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const tab = await browser.newPage();
    try {
      const account = await (
        await fetch(`${base}/accounts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"balance":"40"}',
        })
      ).json();
      await tab.goto(base);
      await openAccount(account.id, tab);
      assert.equal(await tab.isVisible('#db-banner'), false, 'no banner while all is well');

      // A slow answer: the button says it is working and takes no second press.
      proxy.setPolicy(() => ({ delayMs: 1500 }));
      await tab.fill('#deposit-amount', '2');
      await tab.click('#deposit-submit');
      await tab.locator('#deposit-submit', { hasText: 'Working…' }).waitFor({ state: 'visible' });
      assert.equal(await tab.isDisabled('#deposit-submit'), true);
      await tab.click('#deposit-submit', { force: true }).catch(() => {});
      assert.equal(await resultOf('#deposit-form', /Deposited/, tab), 'Deposited 2.');
      await tab.locator('#fact-balance', { hasText: '42' }).waitFor({ state: 'visible' });
      assert.equal(
        (await db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE to_id = $1', [account.id])).rows[0].n,
        2,
        'the opening deposit and one more',
      );

      // The database goes: every connection is cut and every new one refused.
      proxy.refuseConnections(true);
      proxy.setPolicy(() => 'cut-before');
      await tab.fill('#deposit-amount', '1');
      await tab.click('#deposit-submit');
      await tab.locator('#db-banner').waitFor({ state: 'visible', timeout: 30_000 });
      assert.match((await tab.textContent('#db-banner')) ?? '', /The database cannot be reached/);
      // Cut as it was sent, the deposit's outcome is unknown, and the page says so in plain
      // words; or, when it could not even connect, that the database is unavailable.
      assert.match(
        await resultOf('#deposit-form', /\(/, tab),
        /not known whether this went through.*\(AMBIGUOUS_COMMIT\)$|\(DATABASE_UNAVAILABLE\)$/,
      );
      assert.equal(await tab.isVisible('#fact-balance'), true, 'the last figures stay on the screen');
      assert.equal(await tab.evaluate(() => document.body.dataset.stale), 'true', 'marked stale');
      assert.equal(await tab.textContent('#fact-balance'), '42');
      await tab.screenshot({ path: `${shots}7-database-down.png`, fullPage: true });

      // It comes back: the page notices by itself and reads everything again.
      proxy.setPolicy(() => 'forward');
      proxy.refuseConnections(false);
      await tab.locator('#db-banner').waitFor({ state: 'hidden', timeout: 30_000 });
      assert.equal(await tab.evaluate(() => document.body.dataset.stale), undefined, 'no longer stale');
      // Sent again, with the same key: the journal decides (it never arrived), and it moves money once.
      await tab.click('#deposit-submit');
      assert.equal(await resultOf('#deposit-form', /Deposited 1/, tab), 'Deposited 1.');
      await tab.locator('#fact-balance', { hasText: '43' }).waitFor({ state: 'visible' });
      await tab.screenshot({ path: `${shots}8-database-back.png`, fullPage: true });
    } finally {
      await tab.close();
      await app.close();
      await pool.end();
      await proxy.close();
      await db.drop();
    }
  });
});

describe('the console with and without a token', () => {
  test('without a token: no token form, no message until there is one, the empty states say so', async () => {
    const fresh = await startTestServer({ name: 'web_ui_empty' });
    try {
      await page.goto(fresh.base);
      await page.locator('#accounts .empty', { hasText: 'No accounts yet.' }).waitFor({ state: 'visible' });
      assert.equal(await visible('#token-form'), false, 'no token is needed: no token form');
      assert.equal(await visible('#message'), false, 'nothing to say yet: no message');
      assert.equal(await visible('#account-section'), false, 'no account picked: no account page');
      await shoot('9-no-token-empty');
      await page.click('#open-account summary');
      await page.fill('#create-balance', '7');
      await page.click('#create-submit');
      await resultOf('#create-form', /Opened account/);
      assert.equal(await visible('#accounts .empty'), false, 'the empty state is gone with the first account');
    } finally {
      await fresh.close();
    }
  });

  test('with a token: the token form and nothing else until a token works, then the console', async () => {
    const guarded = await startTestServer({ name: 'web_ui_token', token: 'ui-secret-token' });
    const guest = await browser.newPage();
    try {
      await guest.goto(guarded.base);
      await guest.waitForSelector('#token-form:not([hidden])');
      assert.equal(await guest.isVisible('#token'), true, 'the token form is on the screen');
      assert.equal(await guest.isVisible('main'), false, 'and nothing else');
      assert.equal(await guest.textContent('#message'), 'This server needs an API token. Enter it below.');
      assert.equal(await guest.textContent('#verify-status'), 'needs a token');
      await guest.screenshot({ path: `${shots}10-token-asked.png`, fullPage: true });

      await guest.fill('#token', 'not-the-token');
      await guest.click('#token-form button[type="submit"]');
      await guest.waitForFunction(() => document.querySelector('#message')?.textContent?.includes('did not accept'));
      assert.equal(await guest.isVisible('#token-form'), true, 'a refused token asks again');
      assert.equal(await guest.isVisible('main'), false);

      await guest.fill('#token', 'ui-secret-token');
      await guest.click('#token-form button[type="submit"]');
      await guest.locator('#accounts .empty', { hasText: 'No accounts yet.' }).waitFor({ state: 'visible' });
      assert.equal(await guest.isVisible('#token-form'), false, 'the token form is gone once a token works');
      assert.equal(await guest.isVisible('#message'), false, 'and so is the message that asked for it');
      await guest.locator('#chart-movements .chart-value', { hasText: /\/s|no sample/ }).waitFor({ state: 'visible' });
      await guest.screenshot({ path: `${shots}11-token-given.png`, fullPage: true });
    } finally {
      await guest.close();
      await guarded.close();
    }
  });
});
