// Records every distinct SQL text this process sends through node-postgres, and
// who sent it, for the CockroachDB parser check (tools/cockroach-sql-check).
// Loaded into every process of `npm test` with `--import` when
// ROACHBANK_RECORD_SQL names a folder (test/run-tests.ts sets both), so the
// CLI and server processes the tests start are recorded too.
//
// Who sent it is read from the call stack: the first frame of this project
// outside node_modules. Each package's src/ (and dist/, mapped back by
// --enable-source-maps) is the product, the application's src/examples/ the
// seed demos, test/ and bench/ test-only
// helpers, which the check leaves out. Every data layer (Drizzle, Kysely,
// Knex, TypeORM, Sequelize, Prisma) ends in pg's Client#query, so statements a
// library renders for product code are recorded as the product's.

import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';

const folder = process.env.ROACHBANK_RECORD_SQL;
if (folder) {
  const root = new URL('../../', import.meta.url).pathname;
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${process.pid}.jsonl`);

  // Frames that only hand on a text their caller wrote: the recorder itself, and
  // the retry core's watched client, which forwards the callback's queries.
  const passThrough = ['test/support/record-sql.mjs', 'packages/roachbank/src/txn/watched-client.ts'];

  const senderOf = () => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 200;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    for (const line of stack.split('\n').slice(1)) {
      const at = line.indexOf(root);
      if (at === -1 || line.includes('/node_modules/')) continue;
      const path = line.slice(at + root.length);
      if (passThrough.some((file) => path.startsWith(file))) continue;
      if (/^packages\/roachbank-app\/(src|dist)\/examples\//.test(path)) return 'seed';
      if (/^packages\/[^/]+\/(src|dist)\//.test(path)) return 'product';
      return 'test';
    }
    return 'unattributed';
  };

  // pg-pool runs pool.query on a client it hands over in a callback, where
  // the stack no longer shows the caller: the caller seen by pool.query is
  // carried there in an AsyncLocalStorage.
  const caller = new AsyncLocalStorage();

  /** The text with its literal values blanked: one record per shape, not per value. */
  const shapeOf = (text) => text.replace(/'(?:[^']|'')*'/g, "''").replace(/(?<![\w$.])\d+(?:\.\d+)?(?![\w.])/g, '0');
  const productShapes = new Set();
  const recorded = new Set();

  /** One line per distinct text, its sender, and whether it was sent inside BEGIN … COMMIT. */
  const record = (text, inTransaction) => {
    const shape = `${inTransaction ? 'T' : 'I'}${shapeOf(text)}`;
    if (productShapes.has(shape)) return;
    const who = senderOf();
    const found = who === 'unattributed' ? (caller.getStore() ?? who) : who;
    const key = `${found}\u0000${shape}`;
    if (recorded.has(key)) return;
    recorded.add(key);
    if (found === 'product') productShapes.add(shape);
    appendFileSync(file, `${JSON.stringify({ sender: found, text, ...(inTransaction ? { inTransaction } : {}) })}\n`);
  };

  /** The startup `options` a connection sends (its session settings), once per distinct value. */
  const recordedOptions = new Set();
  const recordStartupOptions = (startupOptions) => {
    const who = senderOf();
    const found = who === 'unattributed' ? (caller.getStore() ?? who) : who;
    const key = `${found}\u0000${startupOptions}`;
    if (recordedOptions.has(key)) return;
    recordedOptions.add(key);
    appendFileSync(file, `${JSON.stringify({ sender: found, text: '', startupOptions })}\n`);
  };

  const textOf = (config) => (typeof config === 'string' ? config : config?.text);

  // Whether a client is inside an explicit transaction, followed from the texts it
  // sends, so the check can tell DDL inside BEGIN … COMMIT from DDL on its own.
  const inTransaction = Symbol('inTransaction');
  const begins = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
  const ends = /^\s*(COMMIT|END|ABORT|ROLLBACK(?!\s+TO\b))\b/i;

  const recordClient = (Client) => {
    const query = Client.prototype.query;
    Client.prototype.query = function recordedQuery(config, ...rest) {
      const text = textOf(config);
      if (typeof text === 'string') {
        record(text, this[inTransaction] === true);
        if (begins.test(text)) this[inTransaction] = !/\bCOMMIT\s*;?\s*$/i.test(text);
        else if (ends.test(text)) this[inTransaction] = false;
      }
      return query.call(this, config, ...rest);
    };
    const connect = Client.prototype.connect;
    Client.prototype.connect = function recordedConnect(...args) {
      const startupOptions = this.connectionParameters?.options;
      if (typeof startupOptions === 'string' && startupOptions !== '') recordStartupOptions(startupOptions);
      return connect.apply(this, args);
    };
  };

  const recordPool = (Pool) => {
    const query = Pool.prototype.query;
    Pool.prototype.query = function recordedPoolQuery(...args) {
      return caller.run(senderOf(), () => query.apply(this, args));
    };
  };

  // pg's Client is patched when pg loads it, not before: loading pg here would
  // change what each process loads, which test/package.test.ts checks.
  const load = Module._load;
  Module._load = function loadAndRecord(request, parent, ...rest) {
    const exports = load.call(this, request, parent, ...rest);
    if (parent?.filename?.endsWith('/node_modules/pg/lib/index.js')) {
      if (request === './client') recordClient(exports);
      if (request === 'pg-pool') {
        recordPool(exports);
        Module._load = load; // pg loads ./client first: nothing more to patch
      }
    }
    return exports;
  };
}
