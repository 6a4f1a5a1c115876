// Every answer true across processes: the same movement sent at once from two
// `roachbank serve` processes (one batched, one `--batch off`), from `/transfers`
// beside `/transfers/batch` on one server, and from two CLI processes, on
// exact-drain amounts: each answer a movement or a replay, the money moved once.
// And a movement whose first attempt commits late (a client-side query_timeout
// while another session holds the source row): the movement, a replay or
// AMBIGUOUS_COMMIT, never a refusal.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { runCli } from './support/run-cli.js';
import { type ServeProcess, startServeProcess } from './support/serve-process.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

describe('twin requests from two processes', () => {
  let db: TestDatabase;
  let servers: ServeProcess[];
  before(async () => {
    db = await createTestDatabase('twin_processes');
    await ensureSchema(db.pool);
    const env = { DATABASE_URL: db.url, ROACHBANK_LOG_LEVEL: 'warn' };
    // Two batched servers and one that sends each movement alone.
    servers = await Promise.all([startServeProcess(env), startServeProcess(env), startServeProcess(env, [], ['--batch', 'off'])]);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await db.drop();
  });

  /** A source holding exactly 100 and an empty destination. */
  async function pair(): Promise<{ from: string; to: string }> {
    const bank = createBank(db.pool, { batch: false });
    const from = (await bank.createAccount({ balance: 100n })).id;
    const to = (await bank.createAccount()).id;
    return { from, to };
  }

  const postTransfer = (base: string, key: string, body: object) =>
    fetch(`${base}/transfers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  const postBatch = (base: string, item: object) =>
    fetch(`${base}/transfers/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [item] }),
    });

  /** Status of each answer, and whether the source ended drained exactly once. */
  async function expectOnce(round: number, from: string, statuses: number[], replays: number): Promise<void> {
    assert.deepEqual(statuses, [201, 201], `round ${round}: both answers are the movement (201), got ${statuses}`);
    assert.equal(replays, 1, `round ${round}: one of the two is a replay`);
    const { rows } = await db.pool.query('SELECT balance FROM roachbank.accounts WHERE id = $1', [from]);
    assert.equal(rows[0].balance, '0', `round ${round}: moved once`);
  }

  /** Rounds of one transfer sent at once to two servers under the same key: both 201, one a replay, moved once. */
  async function twinsThrough(first: ServeProcess, second: ServeProcess, rounds: number, keyOf: () => string): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      const { from, to } = await pair();
      const key = keyOf();
      const body = { fromId: from, toId: to, amount: '100' };
      const answers = await Promise.all([first, second].map((server) => postTransfer(server.base, key, body)));
      const replays = answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length;
      await expectOnce(
        round,
        from,
        answers.map((a) => a.status),
        replays,
      );
    }
  }

  test('two serve processes, the same Idempotency-Key at once: both 201, one a replay', () =>
    twinsThrough(servers[0]!, servers[1]!, 40, () => `order-${randomUUID()}`));

  test('two serve processes, one key, two references, at once on an exact drain: one 201, the other IDEMPOTENCY_CONFLICT, never a refusal', async () => {
    for (let round = 0; round < 10; round++) {
      const { from, to } = await pair();
      const key = `order-${randomUUID()}`;
      // Both servers' statements queue on the source's row lock, so they meet for sure.
      const release = await holdRow(from, 2);
      const sent = Promise.all(
        (['first', 'second'] as const).map((reference, i) =>
          postTransfer(servers[i]!.base, key, { fromId: from, toId: to, amount: '100', reference }),
        ),
      );
      await release();
      const answers = await sent;
      const bodies = (await Promise.all(answers.map((a) => a.json()))) as { reference?: string; code?: string }[];
      const outcomes = answers.map((a, i) =>
        a.status === 201 ? `201 ${bodies[i]!.reference}` : `${a.status} ${bodies[i]!.code}`,
      );
      const applied = outcomes.filter((o) => o.startsWith('201'));
      assert.equal(applied.length, 1, `round ${round}: one applies, got ${outcomes}`);
      assert.ok(
        outcomes.includes('409 IDEMPOTENCY_CONFLICT'),
        `round ${round}: the other is told its body differs (not a refusal), got ${outcomes}`,
      );
      const { rows } = await db.pool.query('SELECT balance FROM roachbank.accounts WHERE id = $1', [from]);
      assert.equal(rows[0].balance, '0', `round ${round}: moved once`);
    }
  });

  test('/transfers beside /transfers/batch on one server, the same id at once', async () => {
    const [server] = servers;
    for (let round = 0; round < 40; round++) {
      const { from, to } = await pair();
      const id = randomUUID();
      const [single, batch] = await Promise.all([
        postTransfer(server!.base, id, { fromId: from, toId: to, amount: '100' }),
        postBatch(server!.base, { id, fromId: from, toId: to, amount: '100' }),
      ]);
      const item = ((await batch.json()) as { items: { status: number; replayed?: boolean }[] }).items[0]!;
      const replays = (single.headers.get('idempotent-replayed') === 'true' ? 1 : 0) + (item.replayed ? 1 : 0);
      await expectOnce(round, from, [single.status, item.status], replays);
    }
  });

  test('a batched server beside one with --batch off, the same id at once', () =>
    twinsThrough(servers[0]!, servers[2]!, 30, () => randomUUID()));

  test('two CLI processes, the same --id at once: both exit 0, the money moves once', async () => {
    for (let round = 0; round < 6; round++) {
      const { from, to } = await pair();
      const id = randomUUID();
      // Both processes' statements queue on the source's row lock, so they meet for sure.
      const release = await holdRow(from, 2);
      const runs = Promise.all(
        [0, 1].map(() => runCli(['transfer', from, to, '100', '--id', id, '--json'], { DATABASE_URL: db.url })),
      );
      await release();
      const done = await runs;
      assert.deepEqual(
        done.map((r) => r.code),
        [0, 0],
        `round ${round}: ${done.map((r) => r.stderr).join(' | ')}`,
      );
      const replays = done.filter((r) => (JSON.parse(r.stdout) as { replayed: boolean }).replayed).length;
      assert.equal(replays, 1, `round ${round}`);
    }
  });

  /**
   * Locks an account row in a transaction of its own; the function returned waits
   * until `waiters` other sessions queue on locks in this database, then commits.
   */
  async function holdRow(id: string, waiters: number): Promise<() => Promise<void>> {
    const holder = await db.pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM roachbank.accounts WHERE id = $1 FOR UPDATE', [id]);
    return async () => {
      try {
        for (let poll = 0; poll < 200; poll++) {
          const { rows } = await db.pool.query(
            `SELECT count(*)::INT AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          if (rows[0].n >= waiters) break;
          await sleep(25);
        }
        await holder.query('COMMIT');
      } finally {
        holder.release();
      }
    };
  }

  test('a first attempt that commits late (query_timeout while the row is locked): never a refusal', async () => {
    const answers: string[] = [];
    for (let round = 0; round < 3; round++) {
      const { from, to } = await pair();
      const id = randomUUID();
      const holder = await db.pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM roachbank.accounts WHERE id = $1 FOR UPDATE', [from]);
        const url = new URL(db.url);
        url.searchParams.set('query_timeout', '300');
        const cli = runCli(['transfer', from, to, '100', '--id', id, '--json'], { DATABASE_URL: url.toString() });
        // The first attempt is sent and times out on the client; the server keeps it waiting on the lock.
        await sleep(500 + round * 300);
        await holder.query('COMMIT');
        const run = await cli;
        const code = run.code === 0 ? 'ok' : ((JSON.parse(run.stderr) as { error: { code: string } }).error.code ?? '?');
        answers.push(code);
        assert.ok(['ok', 'AMBIGUOUS_COMMIT'].includes(code), `round ${round}: exit ${run.code}: ${run.stderr}`);
      } finally {
        holder.release();
      }
      const { rows } = await db.pool.query('SELECT count(*)::INT AS n FROM roachbank.transfers WHERE id = $1', [id]);
      const { rows: balance } = await db.pool.query('SELECT balance FROM roachbank.accounts WHERE id = $1', [from]);
      assert.equal(rows[0].n, 1, `round ${round}: the first attempt committed late`);
      assert.equal(balance[0].balance, '0', `round ${round}: once`);
    }
    assert.ok(answers.length === 3, answers.join(','));
  });
});
