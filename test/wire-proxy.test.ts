// The fault proxy is what the fault-injection suite's claims rest on: these
// tests check that it speaks the protocol (SSLRequest first), that it knows
// which message commits, and that refusing and delaying really happen.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { type ClientMessage, startWireProxy, type WireProxy } from './support/wire-proxy.js';

describe('the wire proxy', () => {
  let db: TestDatabase;
  let proxy: WireProxy;

  before(async () => {
    db = await createTestDatabase('wire');
    await db.pool.query('CREATE TABLE items (n INT8)');
    proxy = await startWireProxy(Number(new URL(db.url).port));
  });
  after(async () => {
    await proxy.close();
    await db.drop();
  });

  test('declines an SSLRequest with N, then passes the start-up message to the server', async () => {
    const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
    await once(socket, 'connect');
    const sslRequest = Buffer.alloc(8);
    sslRequest.writeInt32BE(8, 0);
    sslRequest.writeInt32BE(80877103, 4);
    socket.write(sslRequest);
    const [answer] = (await once(socket, 'data')) as [Buffer];
    assert.equal(answer.toString(), 'N');

    const parameters = Buffer.from(`user\0postgres\0database\0${new URL(db.url).pathname.slice(1)}\0\0`);
    const startup = Buffer.alloc(8 + parameters.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4); // protocol 3.0
    parameters.copy(startup, 8);
    socket.write(startup);
    const [reply] = (await once(socket, 'data')) as [Buffer];
    assert.equal(String.fromCharCode(reply[0] ?? 0), 'R', 'the server answered with an authentication message');
    socket.destroy();
  });

  test('knows which message commits: COMMIT, a batch ending in COMMIT, the Sync of a write outside BEGIN', async () => {
    const seen: ClientMessage[] = [];
    proxy.setPolicy((message) => {
      seen.push(message);
      return 'forward';
    });
    const pool = createPool(proxy.urlThrough(db.url), { max: 1 });
    const committing = async (run: () => Promise<unknown>) => {
      seen.length = 0;
      await run();
      return seen.filter((m) => m.commits).map((m) => m.sql ?? m.type);
    };
    try {
      assert.deepEqual(await committing(() => pool.query('INSERT INTO items VALUES ($1)', [1])), ['S']);
      assert.deepEqual(await committing(() => pool.query('SELECT $1::int', [1])), []);
      assert.deepEqual(await committing(() => pool.query('INSERT INTO items VALUES (2)')), ['INSERT INTO items VALUES (2)']);
      assert.deepEqual(await committing(() => pool.query('BEGIN; INSERT INTO items VALUES (3); COMMIT')), [
        'BEGIN; INSERT INTO items VALUES (3); COMMIT',
      ]);
      const client = await pool.connect();
      const explicit = await committing(async () => {
        await client.query('BEGIN');
        await client.query('INSERT INTO items VALUES ($1)', [4]);
        await client.query('COMMIT');
      });
      client.release();
      assert.deepEqual(explicit, ['COMMIT']);
    } finally {
      proxy.setPolicy(() => 'forward');
      await pool.end();
    }
  });

  test('refuses new connections while told to, keeps established ones, and delays a message when told to', async () => {
    const pool = createPool(proxy.urlThrough(db.url), { max: 2 });
    try {
      const established = await pool.connect();
      proxy.refuseConnections(true);
      const refusedBefore = proxy.refused;
      await assert.rejects(pool.query('SELECT 1'), /Connection terminated|ECONNRESET/);
      assert.equal(proxy.refused, refusedBefore + 1);
      assert.equal((await established.query('SELECT 1 AS one')).rows[0].one, 1);
      proxy.refuseConnections(false);

      proxy.setPolicy((m) => (m.sql === 'SELECT 2 AS two' ? { delayMs: 300 } : 'forward'));
      const started = performance.now();
      assert.equal((await established.query('SELECT 2 AS two')).rows[0].two, 2);
      assert.ok(performance.now() - started >= 290, 'the message was held back');
      established.release();
    } finally {
      proxy.setPolicy(() => 'forward');
      proxy.refuseConnections(false);
      await pool.end();
    }
  });
});
