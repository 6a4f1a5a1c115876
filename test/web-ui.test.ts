/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from './support/http-server.js';

// Debian's chromium; test/run-tests.ts installs it with apt when it is missing.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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
  page = await browser.newPage();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const balances = () => page.$$eval('#accounts tbody tr[data-id] .balance', (cells) => cells.map((c) => c.textContent));

describe('the web UI in a real browser', () => {
  test('open two accounts, transfer with a double click, see the right balances and one history row', async () => {
    await page.goto(server.base);
    await page.waitForSelector('#verify-status.ok');

    await page.fill('#create-balance', '100');
    await page.click('#create-submit');
    await page.waitForFunction(() => document.querySelectorAll('#accounts tbody tr[data-id]').length === 1);
    await page.click('#create-submit');
    await page.waitForFunction(() => document.querySelectorAll('#accounts tbody tr[data-id]').length === 2);
    assert.deepEqual(await balances(), ['100', '0']);
    const [source, destination] = await page.$$eval('#accounts tbody tr[data-id]', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.id!),
    );

    await page.selectOption('#transfer-from', source!);
    await page.selectOption('#transfer-to', destination!);
    await page.fill('#transfer-amount', '30');
    await page.dblclick('#transfer-submit');
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('#accounts tbody tr[data-id] .balance')].map((c) => c.textContent);
      return cells.join(',') === '70,30';
    });
    await page.waitForTimeout(300); // let a second payment, if the double click made one, land
    await page.click(`#accounts tbody tr[data-id="${destination}"]`);
    await page.waitForFunction(
      () => document.querySelector('#history-account')?.textContent !== '' && !document.querySelector('#history .empty'),
    );
    const history = await page.$$eval('#history tbody tr', (rows) => rows.map((r) => r.textContent));
    assert.equal(history.length, 1, `one history row, got ${JSON.stringify(history)}`);
    assert.match(history[0]!, /transfer in\s*\+30/);

    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#accounts tbody tr[data-id]').length === 2);
    assert.deepEqual(await balances(), ['70', '30']);
    const { rows } = await server.db.pool.query('SELECT count(*)::int AS n FROM roachbank.transfers WHERE to_id = $1', [
      destination,
    ]);
    assert.equal(rows[0].n, 1, 'the double click paid once');
    await page.waitForSelector('#verify-status.ok');
  });

  test('a hold shows as held, posts or voids from its row; a movement reverses from the history', async () => {
    await page.goto(server.base);
    await page.waitForFunction(() => document.querySelectorAll('#accounts tbody tr[data-id]').length === 2);
    const [card, shop] = await page.$$eval('#accounts tbody tr[data-id]', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset.id!),
    );
    const row = (id: string) => `#accounts tbody tr[data-id="${id}"]`;
    await page.selectOption('#hold-from', card!);
    await page.selectOption('#hold-to', shop!);
    await page.fill('#hold-amount', '50');
    await page.fill('#hold-expires', '15');
    await page.dblclick('#hold-submit');
    await page.waitForFunction((sel) => document.querySelector(`${sel} .held`)?.textContent === '50', row(card!));
    assert.deepEqual(
      [await page.textContent(`${row(card!)} .balance`), await page.textContent(`${row(card!)} .available`)],
      ['70', '20'],
    );
    assert.equal(await page.isVisible(`${row(card!)} .held`), true, 'held is on the screen');
    await page.click(row(card!));
    await page.waitForSelector('#holds tbody tr[data-hold]');
    assert.equal((await page.$$('#holds tbody tr[data-hold]')).length, 1, 'the double click placed one hold');
    const post = '#holds tbody tr[data-hold] button:has-text("Post")';
    assert.equal(await page.isVisible(post), true, 'a pending hold offers Post');
    assert.equal(await page.isVisible('#holds tbody tr[data-hold] button:has-text("Void")'), true, 'and Void');
    await page.screenshot({
      path: `${new URL('../test-results/ui/', import.meta.url).pathname}5-hold-pending.png`,
      fullPage: true,
    });
    await page.click(post);
    await page.waitForFunction(() => document.querySelector('#holds tbody tr[data-hold] .status')?.textContent === 'posted 50');
    assert.equal(await page.isVisible(post), false, 'a posted hold offers nothing more');
    await page.waitForFunction((sel) => document.querySelector(`${sel} .balance`)?.textContent === '20', row(card!));
    assert.equal(await page.textContent(`${row(card!)} .held`), '0');

    const reverse = '#history tbody tr[data-transfer]:first-child button:has-text("Reverse")';
    assert.match((await page.textContent('#history tbody tr[data-transfer]:first-child')) ?? '', /hold posted/);
    await page.click(reverse);
    await page.waitForFunction((sel) => document.querySelector(`${sel} .balance`)?.textContent === '70', row(card!));
    assert.match((await page.textContent('#message')) ?? '', /Reversed 50/);
    await page.click(reverse.replace(':first-child', ':nth-child(2)'));
    await page.waitForSelector('#message.error');
    assert.match((await page.textContent('#message')) ?? '', /nothing left to reverse|left to reverse/);
    await page.screenshot({ path: `${new URL('../test-results/ui/', import.meta.url).pathname}6-reversed.png`, fullPage: true });
    assert.equal((await server.db.pool.query('SELECT count(*)::int AS n FROM roachbank.holds')).rows[0].n, 1);
  });

  test('a movement written with a reference shows it in the history, its metadata on hover', async () => {
    const [card] = await page.$$eval('#accounts tbody tr[data-id]', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
    const response = await fetch(`${server.base}/accounts/${card}/deposits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '5', reference: 'invoice <b>42</b>', metadata: { channel: 'api' } }),
    });
    assert.equal(response.status, 201);
    await page.reload();
    await page.waitForSelector(`#accounts tbody tr[data-id="${card}"]`);
    await page.click(`#accounts tbody tr[data-id="${card}"]`);
    const cell = page.locator('#history tbody tr[data-transfer]:first-child td', { hasText: 'invoice' });
    await cell.waitFor();
    assert.equal(await cell.isVisible(), true, 'the reference is on the screen');
    assert.equal(await cell.textContent(), 'invoice <b>42</b>', 'shown as text, never as markup');
    assert.equal(await cell.getAttribute('title'), '{"channel":"api"}');
  });

  test('the history shows the balance after each movement, and the statement downloads as CSV', async () => {
    const [card] = await page.$$eval('#accounts tbody tr[data-id]', (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
    await page.click(`#accounts tbody tr[data-id="${card}"]`);
    await page.locator('#history tbody tr[data-transfer]').first().waitFor();
    const after = page.locator('#history tbody tr[data-transfer] .balance-after');
    const account = await (await fetch(`${server.base}/accounts/${card}`)).json();
    assert.equal(await after.first().isVisible(), true, 'the running balance is on the screen');
    assert.equal(await after.first().textContent(), account.balance, 'the newest row ends at the account’s balance');
    assert.equal(await page.isVisible('#statement-submit'), true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#statement-submit')]);
    assert.match(download.suggestedFilename(), /^statement-[0-9a-f]{8}-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = (await import('node:fs'))
      .readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv[0], 'sequence,created_at,kind,transfer_id,counterparty_id,reference,change,balance_after');
    assert.match(csv.at(-1)!, new RegExp(`,closing,,,,,${account.balance}$`), 'it closes at today’s balance');
    await page.waitForFunction(() => document.querySelector('#message')?.textContent?.includes('downloaded'));
    assert.equal(await page.isVisible('#message'), true);
  });

  test('an error from the API is shown, not swallowed', async () => {
    await page.fill('#transfer-amount', '1000000');
    await page.click('#transfer-submit');
    await page.waitForFunction(() => document.querySelector('#message.error')?.textContent?.includes('cannot debit 1000000'));
    assert.equal(await page.isVisible('#message'), true);
  });

  test('an account in a currency shows its amounts in that currency, and a transfer across currencies is refused on screen', async () => {
    await page.fill('#create-balance', '12345');
    await page.fill('#create-currency', 'usd');
    await page.fill('#create-credit', '500');
    await page.click('#create-submit');
    await page.waitForFunction(() => document.querySelectorAll('#accounts tbody tr[data-id]').length === 3);
    const usd = await page.$eval('#accounts tbody tr[data-id]:last-child', (r) => (r as HTMLElement).dataset.id!);
    const row = `#accounts tbody tr[data-id="${usd}"]`;
    assert.deepEqual(await Promise.all(['balance', 'available', 'credit'].map((c) => page.textContent(`${row} .${c}`))), [
      '123.45 USD',
      '123.45 USD',
      '5.00 USD',
    ]);
    assert.equal(await page.isVisible(`${row} .balance`), true);
    assert.match((await page.textContent('#message')) ?? '', /Opened account .* with 123\.45 USD/);
    const other = await page.$eval('#accounts tbody tr[data-id]:first-child', (r) => (r as HTMLElement).dataset.id!);
    await page.selectOption('#transfer-from', usd);
    await page.selectOption('#transfer-to', other);
    await page.fill('#transfer-amount', '1');
    await page.click('#transfer-submit');
    await page.waitForFunction(() => document.querySelector('#message.error')?.textContent?.includes('different currencies'));
    assert.equal(await page.isVisible('#message'), true, 'the refusal is on the screen');
    await page.screenshot({ path: `${new URL('../test-results/ui/', import.meta.url).pathname}7-currency.png`, fullPage: true });
  });
});

// What a person sees, not only what is in the DOM: each element that appears only
// sometimes is checked with the browser's own visibility (layout, CSS, `hidden`),
// and each state is saved as a screenshot in test-results/ui/ to look at.
const shots = new URL('../test-results/ui/', import.meta.url).pathname;
const visible = (selector: string) => page.isVisible(selector);
const shoot = (name: string) => page.screenshot({ path: `${shots}${name}.png`, fullPage: true });

describe('what the web UI shows, and hides', () => {
  test('without a token: no token form, no message until there is one, the empty states say so', async () => {
    const fresh = await startTestServer({ name: 'web_ui_empty' });
    try {
      await page.goto(fresh.base);
      await page.waitForSelector('#verify-status.ok');
      assert.equal(await visible('#token-form'), false, 'no token is needed: no token form');
      assert.equal(await visible('#message'), false, 'nothing to say yet: no message');
      assert.equal(await visible('#accounts .empty'), true, '"No accounts yet." is on the screen');
      assert.match((await page.textContent('#accounts .empty')) ?? '', /No accounts yet/);
      assert.equal(await visible('#history .empty'), true, '"Pick an account." is on the screen');
      assert.equal(await visible('#create-form'), true);
      await shoot('1-no-token-empty');

      await page.fill('#create-balance', '7');
      await page.click('#create-submit');
      await page.waitForSelector('#message:not([hidden])');
      assert.equal(await visible('#message'), true, 'the outcome is on the screen');
      assert.equal(await visible('#accounts .empty'), false, 'the empty state is gone with the first account');
      await shoot('2-no-token-message');
    } finally {
      await fresh.close();
    }
  });

  test('with a token: the token form shows until a token is given, then hides, and the accounts show', async () => {
    const guarded = await startTestServer({ name: 'web_ui_token', token: 'ui-secret-token' });
    const guest = await browser.newPage();
    try {
      await guest.goto(guarded.base);
      await guest.waitForSelector('#token-form:not([hidden])');
      assert.equal(await guest.isVisible('#token-form'), true, 'the token form is on the screen');
      assert.equal(await guest.isVisible('#token'), true);
      await guest.waitForSelector('#message.error');
      assert.equal(await guest.isVisible('#message'), true, 'the message says why the form is there');
      const asked = await guest.textContent('#message');
      assert.equal(asked, 'This server needs an API token. Enter it below.', 'said in plain words, not as a header to send');
      assert.equal(await guest.textContent('#verify-status'), 'needs a token', 'the badge does not stay at "checking…"');
      await guest.screenshot({ path: `${shots}3-token-asked.png`, fullPage: true });

      await guest.fill('#token', 'not-the-token');
      await guest.click('#token-form button[type="submit"]');
      await guest.waitForFunction(() => document.querySelector('#message')?.textContent?.includes('did not accept'));
      assert.equal(await guest.isVisible('#token-form'), true, 'a refused token asks again');
      assert.equal(await guest.textContent('#message'), 'The server did not accept that API token. Enter it again below.');
      await guest.screenshot({ path: `${shots}3b-token-refused.png`, fullPage: true });

      await guest.fill('#token', 'ui-secret-token');
      await guest.click('#token-form button[type="submit"]');
      await guest.waitForSelector('#verify-status.ok');
      assert.equal(await guest.isVisible('#token-form'), false, 'the token form is gone once a token works');
      assert.equal(await guest.isVisible('#message'), false, 'and so is the message that asked for it');
      assert.equal(await guest.isVisible('#accounts .empty'), true);
      await guest.screenshot({ path: `${shots}4-token-given.png`, fullPage: true });
    } finally {
      await guest.close();
      await guarded.close();
    }
  });
});
