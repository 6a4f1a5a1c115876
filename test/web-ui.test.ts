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

  test('an error from the API is shown, not swallowed', async () => {
    await page.fill('#transfer-amount', '1000000');
    await page.click('#transfer-submit');
    await page.waitForSelector('#message.error');
    assert.match((await page.textContent('#message')) ?? '', /cannot debit 1000000/);
  });
});
