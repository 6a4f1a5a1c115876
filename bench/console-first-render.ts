// `npm run bench:console`: how long the console takes, in Chromium, from navigation to its
// first page of accounts on the screen, on a book of 1,000 accounts and on one of
// 1,000,000, each in its own database on one server, rounds interleaved; and how many
// account pages it asked for on load. Medians of the rounds.
// Knobs: CONSOLE_ROUNDS (default 7), CONSOLE_SIZES (default 1000,1000000).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { median } from './median.js';

const rounds = Number(process.env.CONSOLE_ROUNDS ?? 7);
const sizes = (process.env.CONSOLE_SIZES ?? '1000,1000000').split(',').map(Number);
const dataDir = await mkdtemp(join(tmpdir(), 'roachbank-console-'));
const lease = await acquireEmbeddedServer({ dataDir });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

try {
  const books = [];
  for (const size of sizes) {
    const admin = new pg.Client({ connectionString: lease.url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS console_${size}`);
    await admin.query(`CREATE DATABASE console_${size}`);
    await admin.end();
    const pool = createPool(lease.url.replace(/\/[^/?]+(\?|$)/, `/console_${size}$1`), { max: 10 });
    await ensureSchema(pool);
    await pool.query(`INSERT INTO roachbank.accounts (id, balance, created_at, sequence)
      SELECT gen_random_uuid(), 0, now() - (i * INTERVAL '1 second'), 0 FROM generate_series(1, ${size}) AS i`);
    await pool.query('VACUUM ANALYZE roachbank.accounts');
    const app = await buildServer({ pool });
    await app.listen({ host: '127.0.0.1', port: 0 });
    books.push({
      size,
      pool,
      app,
      base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
      ms: [] as number[],
      pages: 0,
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (const book of books) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      let pages = 0;
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/accounts') pages++;
      });
      await page.goto(book.base, { waitUntil: 'commit' });
      await page.locator('#accounts tbody tr[data-id]').first().waitFor({ state: 'visible' });
      // The browser's own clock: from the start of navigation to the row being on the screen.
      book.ms.push(await page.evaluate(() => performance.now()));
      book.pages = Math.max(book.pages, pages);
      await page.close();
    }
  }
  const base = median(books[0]!.ms);
  console.log('| accounts | first page on screen (median ms) | against the smallest book | account pages asked on load |');
  console.log('|---:|---:|---:|---:|');
  for (const book of books) {
    console.log(
      `| ${book.size.toLocaleString('en')} | ${Math.round(median(book.ms))} | ${(median(book.ms) / base).toFixed(2)}× | ${book.pages} |`,
    );
  }
  for (const book of books) {
    await book.app.close();
    await book.pool.end();
  }
} finally {
  await browser.close();
  await lease.release();
  await rm(dataDir, { recursive: true, force: true });
}
