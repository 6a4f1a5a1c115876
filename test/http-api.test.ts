import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { errorCatalogue } from '../packages/roachbank/src/errors/error-catalogue.js';
import { buildServer } from '../packages/roachbank-app/src/http/build-server.js';
import { startTestServer, type TestServer } from './support/http-server.js';
import { runCli } from './support/run-cli.js';
import { startServeProcess } from './support/serve-process.js';
import { createTestDatabase } from './support/test-database.js';

interface Reply {
  status: number;
  type: string;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the server sent
  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, body: parsed };
}

let server: TestServer;
/** Every byte of the product tables, hashed: unchanged means unchanged. */
const checksum = async () =>
  (
    await server.db.pool.query(`SELECT md5(
    COALESCE((SELECT string_agg(a::TEXT, '|' ORDER BY id) FROM roachbank.accounts a), '') ||
    COALESCE((SELECT string_agg(t::TEXT, '|' ORDER BY id) FROM roachbank.transfers t), '') ||
    COALESCE((SELECT string_agg(h::TEXT, '|' ORDER BY id) FROM roachbank.holds h), '') ||
    COALESCE((SELECT string_agg(r::TEXT, '|' ORDER BY transfer_id) FROM roachbank.reversed_amounts r), '')) AS sum`)
  ).rows[0].sum;
let rich: string;
let poor: string;
let closed: string;
const api = (method: string, path: string, init?: Parameters<typeof call>[3]) => call(server.base, method, path, init);

before(async () => {
  server = await startTestServer();
  rich = (await api('POST', '/accounts', { body: { balance: '1000' } })).body.id;
  poor = (await api('POST', '/accounts', { body: {} })).body.id;
  closed = (await api('POST', '/accounts', { body: {} })).body.id;
  await api('POST', `/accounts/${closed}/close`);
});
after(() => server.close());

describe('the HTTP API', () => {
  test('accounts, money and the journal round trip as JSON with money as strings', async () => {
    const a = await api('POST', '/accounts', { body: { balance: '500' } });
    assert.equal(a.status, 201);
    assert.deepEqual(Object.keys(a.body).sort(), [
      'available',
      'balance',
      'closedAt',
      'createdAt',
      'creditLimit',
      'currency',
      'decimals',
      'held',
      'id',
      'metadata',
      'reference',
    ]);
    assert.deepEqual([a.body.currency, a.body.decimals, a.body.creditLimit], ['XXX', 0, '0']);
    assert.equal(a.body.balance, '500');
    const b = (await api('POST', '/accounts', { body: {} })).body;
    const deposit = await api('POST', `/accounts/${b.id}/deposits`, { body: { amount: '20' } });
    assert.equal(deposit.status, 201);
    assert.deepEqual([deposit.body.fromId, deposit.body.toId, deposit.body.amount], [null, b.id, '20']);
    const withdrawal = await api('POST', `/accounts/${b.id}/withdrawals`, { body: { amount: '5' } });
    assert.deepEqual([withdrawal.body.fromId, withdrawal.body.toId], [b.id, null]);
    const transfer = await api('POST', '/transfers', { body: { fromId: a.body.id, toId: b.id, amount: '100' } });
    assert.equal(transfer.status, 201);
    assert.deepEqual(Object.keys(transfer.body).sort(), [
      'amount',
      'createdAt',
      'currency',
      'fromBalanceAfter',
      'fromId',
      'fromSequence',
      'holdId',
      'id',
      'metadata',
      'reference',
      'reversalOf',
      'toBalanceAfter',
      'toId',
      'toSequence',
    ]);
    assert.deepEqual(
      [transfer.body.fromBalanceAfter, transfer.body.toBalanceAfter, transfer.body.toSequence],
      ['400', '115', 3],
      'the running balances after it, and its number in the destination’s chain',
    );
    assert.deepEqual((await api('GET', `/transfers/${transfer.body.id}`)).body, { ...transfer.body, reversed: '0' });
    assert.equal((await api('GET', `/accounts/${b.id}`)).body.balance, '115');
    const history = await api('GET', `/accounts/${b.id}/transfers?limit=2`);
    assert.deepEqual(
      history.body.items.map((t: { id: string }) => t.id),
      [transfer.body.id, withdrawal.body.id],
    );
    const next = await api('GET', `/accounts/${b.id}/transfers?limit=2&cursor=${history.body.next}`);
    assert.deepEqual(
      next.body.items.map((t: { id: string }) => t.id),
      [deposit.body.id],
    );
    const list = await api('GET', '/accounts?limit=2');
    assert.equal(list.body.items.length, 2);
    assert.equal(typeof list.body.next, 'string');
    const verify = await api('GET', '/verify');
    assert.equal(verify.body.ok, true);
    assert.equal(typeof verify.body.totalBalance, 'string');
  });

  test('currencies and credit limits: opened with them, never mixed, a limit set and refused where it is in use', async () => {
    const usd = await api('POST', '/accounts', { body: { currency: 'USD', creditLimit: '100' } });
    assert.equal(usd.status, 201);
    assert.deepEqual([usd.body.currency, usd.body.decimals, usd.body.creditLimit], ['USD', 2, '100']);
    const jpy = (await api('POST', '/accounts', { body: { currency: 'JPY', balance: '5' } })).body;
    assert.equal(jpy.decimals, 0);
    const shop = (await api('POST', '/accounts', { body: { currency: 'USD' } })).body;
    const spent = await api('POST', '/transfers', { body: { fromId: usd.body.id, toId: shop.id, amount: '60' } });
    assert.deepEqual([spent.status, spent.body.currency], [201, 'USD']);
    const owing = (await api('GET', `/accounts/${usd.body.id}`)).body;
    assert.deepEqual([owing.balance, owing.available], ['-60', '-60']);
    const mixed = await api('POST', '/transfers', { body: { fromId: jpy.id, toId: shop.id, amount: '1' } });
    assert.deepEqual([mixed.status, mixed.body.code], [409, 'CURRENCY_MISMATCH']);
    const lowered = await api('PUT', `/accounts/${usd.body.id}/credit-limit`, { body: { creditLimit: '59' } });
    assert.deepEqual([lowered.status, lowered.body.code], [409, 'CREDIT_LIMIT_IN_USE']);
    const set = await api('PUT', `/accounts/${usd.body.id}/credit-limit`, { body: { creditLimit: '60' } });
    assert.deepEqual([set.status, set.body.creditLimit], [200, '60']);
    const beyond = await api('POST', `/accounts/${usd.body.id}/withdrawals`, { body: { amount: '1' } });
    assert.deepEqual([beyond.status, beyond.body.code], [409, 'INSUFFICIENT_FUNDS']);
    for (const body of [{ currency: 'usd' }, { currency: 'US' }, { creditLimit: '-1' }, { creditLimit: 5 }]) {
      const bad = await api('POST', '/accounts', { body });
      assert.deepEqual([bad.status, bad.body.code], [400, 'INVALID_ARGUMENT'], JSON.stringify(body));
    }
    const report = (await api('GET', '/verify')).body;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.currencies.filter((c: { currency: string }) => c.currency !== 'XXX'),
      [
        { currency: 'JPY', accounts: 1, totalBalance: '5', moneyIn: '5', moneyOut: '0' },
        { currency: 'USD', accounts: 2, totalBalance: '0', moneyIn: '0', moneyOut: '0' },
      ],
    );
  });

  test('references and metadata: written with every movement, read back as sent, found by reference, part of what a key compares', async () => {
    const order = `order-${randomUUID()}`;
    const metadata = { cart: [{ sku: 'A1', qty: 2 }], note: 'gift, “wrapped”' };
    const shop = await api('POST', '/accounts', { body: { reference: order, metadata: { kind: 'merchant' } } });
    assert.deepEqual([shop.status, shop.body.reference, shop.body.metadata], [201, order, { kind: 'merchant' }]);
    const key = randomUUID();
    const paid = await api('POST', '/transfers', {
      body: { fromId: rich, toId: shop.body.id, amount: '7', reference: order, metadata },
      headers: { 'idempotency-key': key },
    });
    assert.deepEqual([paid.status, paid.body.reference, paid.body.metadata], [201, order, metadata]);
    assert.equal(JSON.stringify(paid.body.metadata), JSON.stringify(metadata), 'keys and nesting as sent');
    const again = await api('POST', '/transfers', {
      body: {
        fromId: rich,
        toId: shop.body.id,
        amount: '7',
        reference: order,
        metadata: { note: metadata.note, cart: metadata.cart },
      },
      headers: { 'idempotency-key': key },
    });
    assert.deepEqual([again.status, again.headers.get('idempotent-replayed')], [201, 'true']);
    const other = await api('POST', '/transfers', {
      body: { fromId: rich, toId: shop.body.id, amount: '7', reference: 'another' },
      headers: { 'idempotency-key': key },
    });
    assert.deepEqual([other.status, other.body.code], [409, 'IDEMPOTENCY_CONFLICT']);
    const refund = await api('POST', `/transfers/${paid.body.id}/reversals`, {
      body: { amount: '2', metadata: { why: 'late' } },
    });
    assert.deepEqual([refund.status, refund.body.reference, refund.body.metadata], [201, order, { why: 'late' }]);
    const fee = await api('POST', `/accounts/${shop.body.id}/withdrawals`, { body: { amount: '1', reference: order } });
    assert.equal(fee.status, 201);
    const [batchRow] = (
      await api('POST', '/transfers/batch', {
        body: { items: [{ id: randomUUID(), toId: shop.body.id, amount: '3', reference: order, metadata: { line: 1 } }] },
      })
    ).body.items;
    assert.deepEqual([batchRow.status, batchRow.transfer.metadata], [201, { line: 1 }]);
    const hold = await api('POST', '/holds', { body: { fromId: rich, amount: '4', reference: order, metadata: { auth: 1 } } });
    assert.deepEqual([hold.status, hold.body.reference, hold.body.metadata], [201, order, { auth: 1 }]);
    const post = await api('POST', `/holds/${hold.body.id}/post`, { body: {} });
    assert.deepEqual([post.status, post.body.reference], [201, order]);

    const first = await api('GET', `/transfers?reference=${encodeURIComponent(order)}&limit=3`);
    assert.equal(first.status, 200);
    const rest = await api('GET', `/transfers?reference=${encodeURIComponent(order)}&limit=3&cursor=${first.body.next}`);
    assert.deepEqual(
      [...first.body.items, ...rest.body.items].map((row: { id: string }) => row.id),
      [paid.body.id, refund.body.id, fee.body.id, batchRow.transfer.id, post.body.id],
    );
    assert.equal(rest.body.next, null);
    const accounts = await api('GET', `/accounts?reference=${encodeURIComponent(order)}`);
    assert.deepEqual(
      accounts.body.items.map((a: { id: string }) => a.id),
      [shop.body.id],
    );
    assert.equal((await api('GET', `/accounts/${shop.body.id}`)).body.reference, order);
    // The schema counts characters as the database does: 128 of four bytes each are one reference, 129 are not.
    const widest = await api('POST', '/accounts', { body: { reference: '🏦'.repeat(128) } });
    assert.deepEqual([widest.status, widest.body.reference], [201, '🏦'.repeat(128)]);
    const wider = await api('POST', '/accounts', { body: { reference: '🏦'.repeat(129) } });
    assert.deepEqual([wider.status, wider.body.code], [400, 'INVALID_ARGUMENT']);

    const before = await checksum();
    const bad: [string, string, unknown][] = [
      ['POST', '/transfers', { fromId: rich, toId: poor, amount: '1', reference: '' }],
      ['POST', '/transfers', { fromId: rich, toId: poor, amount: '1', reference: 'x'.repeat(129) }],
      ['POST', '/transfers', { fromId: rich, toId: poor, amount: '1', reference: 'tab\there' }],
      ['POST', '/transfers', { fromId: rich, toId: poor, amount: '1', metadata: ['not', 'an', 'object'] }],
      ['POST', '/transfers', { fromId: rich, toId: poor, amount: '1', metadata: { pad: 'x'.repeat(5000) } }],
      ['POST', '/accounts', { metadata: 'text' }],
      ['POST', `/accounts/${rich}/deposits`, { amount: '1', reference: 7 }],
    ];
    for (const [method, path, body] of bad) {
      const refused = await api(method, path, { body });
      assert.deepEqual([refused.status, refused.body.code], [400, 'INVALID_ARGUMENT'], JSON.stringify(body).slice(0, 80));
    }
    const tooBig = await api('POST', '/transfers', {
      body: { fromId: rich, toId: poor, amount: '1', metadata: { pad: 'x'.repeat(5000) } },
    });
    assert.match(tooBig.body.detail, /at most 4096 bytes as JSON, got 5010/);
    for (const query of ['', '?reference=', `?reference=${'x'.repeat(129)}`]) {
      const refused = await api('GET', `/transfers${query}`);
      assert.deepEqual([refused.status, refused.body.code], [400, 'INVALID_ARGUMENT'], query);
    }
    assert.equal(await checksum(), before, 'nothing written');
  });

  test('balance at a moment and statements: JSON pages, the whole period as CSV, bad periods refused', async () => {
    const account = (await api('POST', '/accounts', { body: { balance: '100', currency: 'USD' } })).body.id as string;
    const other = (await api('POST', '/accounts', { body: { currency: 'USD' } })).body.id as string;
    await api('POST', '/transfers', { body: { fromId: account, toId: other, amount: '30', reference: '=HYPERLINK("x")' } });
    await api('POST', `/accounts/${account}/deposits`, { body: { amount: '5' } });
    const from = '2000-01-01T00:00:00Z';
    const to = new Date(Date.now() + 60_000).toISOString();
    const balance = await api('GET', `/accounts/${account}/balance?at=${encodeURIComponent(to)}`);
    assert.equal(balance.status, 200);
    assert.deepEqual(balance.body, { accountId: account, currency: 'USD', decimals: 2, at: to, sequence: 3, balance: '75' });
    const before = await api('GET', `/accounts/${account}/balance?at=${from}`);
    assert.deepEqual([before.body.sequence, before.body.balance], [0, '0']);

    const first = await api('GET', `/accounts/${account}/statement?from=${from}&to=${encodeURIComponent(to)}&limit=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(
      [first.body.opening, first.body.closing, first.body.movements],
      [{ sequence: 0, balance: '0' }, { sequence: 3, balance: '75' }, 3],
    );
    assert.deepEqual(
      first.body.lines.items.map((l: { sequence: number; change: string; balanceAfter: string; kind: string }) => [
        l.sequence,
        l.kind,
        l.change,
        l.balanceAfter,
      ]),
      [
        [1, 'deposit', '100', '100'],
        [2, 'transfer', '-30', '70'],
      ],
    );
    assert.equal(first.body.lines.items[1].counterpartyId, other);
    const second = await api(
      'GET',
      `/accounts/${account}/statement?from=${from}&to=${encodeURIComponent(to)}&limit=2&cursor=${first.body.lines.next}`,
    );
    assert.deepEqual([second.body.lines.items.map((l: { sequence: number }) => l.sequence), second.body.lines.next], [[3], null]);

    const csv = await api('GET', `/accounts/${account}/statement?from=${from}&to=${encodeURIComponent(to)}`, {
      headers: { accept: 'text/csv' },
    });
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="statement-/);
    const rows = (csv.body as string).trim().split('\n');
    assert.equal(rows[0], 'sequence,created_at,kind,transfer_id,counterparty_id,reference,change,balance_after');
    assert.equal(rows[1], '0,,opening,,,,,0');
    assert.match(
      rows[3]!,
      new RegExp(`^2,[^,]+,transfer,[0-9a-f-]{36},${other},"'=HYPERLINK\\(""x""\\)",-30,70$`),
      'a formula is written as text',
    );
    assert.equal(rows.at(-1), '3,,closing,,,,,75');
    assert.equal(rows.length, 6, 'a header, the opening, three lines, the closing');

    const sum = await checksum();
    for (const [path, code, status] of [
      [`/accounts/${account}/balance`, 'INVALID_ARGUMENT', 400],
      [`/accounts/${account}/balance?at=yesterday`, 'INVALID_ARGUMENT', 400],
      [`/accounts/${account}/balance?at=2026-02-30T00:00:00Z`, 'INVALID_ARGUMENT', 400],
      [`/accounts/${randomUUID()}/balance?at=${from}`, 'ACCOUNT_NOT_FOUND', 404],
      [`/accounts/${account}/statement?from=${encodeURIComponent(to)}&to=${from}`, 'INVALID_ARGUMENT', 400],
      [`/accounts/${account}/statement?from=${from}`, 'INVALID_ARGUMENT', 400],
      [`/accounts/${randomUUID()}/statement?from=${from}&to=${from}`, 'ACCOUNT_NOT_FOUND', 404],
      [`/accounts/${account}/statement?from=${from}&to=${from}&cursor=nope`, 'INVALID_ARGUMENT', 400],
    ] as const) {
      const reply = await api('GET', path);
      assert.deepEqual(
        [reply.status, reply.body.code, reply.type.split(';')[0]],
        [status, code, 'application/problem+json'],
        path,
      );
    }
    const csvWithPage = await api('GET', `/accounts/${account}/statement?from=${from}&to=${from}&limit=5`, {
      headers: { accept: 'text/csv' },
    });
    assert.deepEqual([csvWithPage.status, csvWithPage.body.code], [400, 'INVALID_ARGUMENT']);
    const csvMissing = await api('GET', `/accounts/${randomUUID()}/statement?from=${from}&to=${from}`, {
      headers: { accept: 'text/csv' },
    });
    assert.deepEqual(
      [csvMissing.status, csvMissing.body.code],
      [404, 'ACCOUNT_NOT_FOUND'],
      'a refusal before the CSV starts is a problem',
    );
    assert.equal(await checksum(), sum, 'reads change nothing');
  });

  test('Idempotency-Key: same key and body, same status and body; another body, 409; money moves once', async () => {
    const body = { fromId: rich, toId: poor, amount: '10' };
    const headers = { 'idempotency-key': `order-${randomUUID()}` };
    const first = await api('POST', '/transfers', { body, headers });
    const again = await api('POST', '/transfers', { body, headers });
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const conflict = await api('POST', '/transfers', { body: { ...body, amount: '11' }, headers });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'IDEMPOTENCY_CONFLICT');
    assert.match(conflict.body.detail, /amount 10, not 11/);
    const uuidKey = randomUUID();
    const keyed = await api('POST', `/accounts/${poor}/deposits`, {
      body: { amount: '1' },
      headers: { 'idempotency-key': uuidKey },
    });
    assert.equal(keyed.body.id, uuidKey, 'a UUID key is the transfer id itself');
    const account = await api('POST', '/accounts', { body: { balance: '3' }, headers: { 'idempotency-key': 'open-once' } });
    const accountAgain = await api('POST', '/accounts', { body: { balance: '3' }, headers: { 'idempotency-key': 'open-once' } });
    assert.deepEqual([accountAgain.status, accountAgain.body], [201, account.body]);
    assert.equal(account.headers.get('idempotent-replayed'), null);
    assert.equal(accountAgain.headers.get('idempotent-replayed'), 'true', 'a replayed account says so, like every replay');
    assert.equal(
      (await api('POST', '/accounts', { body: { balance: '4' }, headers: { 'idempotency-key': 'open-once' } })).status,
      409,
    );
  });

  test('20 concurrent requests with one key: one effect, the same answer for all', async () => {
    const before = (await api('GET', `/accounts/${poor}`)).body.balance;
    const key = `double-click-${randomUUID()}`;
    const replies = await Promise.all(
      Array.from({ length: 20 }, () =>
        api('POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '7' }, headers: { 'idempotency-key': key } }),
      ),
    );
    assert.ok(replies.every((r) => r.status === 201));
    assert.equal(new Set(replies.map((r) => JSON.stringify(r.body))).size, 1);
    assert.equal(replies.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1);
    assert.equal(BigInt((await api('GET', `/accounts/${poor}`)).body.balance), BigInt(before) + 7n);
  });

  test('a corpus of bad requests: 4xx problem+json with the right code, no stack, nothing changed', async () => {
    const nobody = randomUUID();
    const corpus: Array<[string, string, Parameters<typeof call>[3], number, string]> = [
      ['POST', '/transfers', { raw: '{"fromId": ' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { raw: '' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { raw: '[1,2]' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { raw: '"a string"' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '1', memo: 'x' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, amount: '1' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: 1 } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '-5' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '0' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '1.5' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '9223372036854775808' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '123456789012345678901' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: 'not-a-uuid', toId: poor, amount: '1' } }, 400, 'INVALID_ARGUMENT'],
      [
        'POST',
        '/transfers',
        { body: { fromId: "'; DROP TABLE roachbank.accounts; --", toId: poor, amount: '1' } },
        400,
        'INVALID_ARGUMENT',
      ],
      ['POST', '/transfers', { body: { fromId: rich, toId: rich, amount: '1' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: nobody, amount: '1' } }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/transfers', { body: { fromId: rich, toId: closed, amount: '1' } }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/transfers', { body: { fromId: poor, toId: rich, amount: '100000' } }, 409, 'INSUFFICIENT_FUNDS'],
      [
        'POST',
        '/transfers',
        { raw: JSON.stringify({ fromId: rich, toId: poor, amount: '1', pad: 'x'.repeat(20_000) }) },
        413,
        'INVALID_ARGUMENT',
      ],
      ['POST', '/transfers', { raw: 'amount=1', headers: { 'content-type': 'text/plain' } }, 415, 'INVALID_ARGUMENT'],
      [
        'POST',
        '/transfers',
        { body: { fromId: rich, toId: poor, amount: '1' }, headers: { 'idempotency-key': 'k'.repeat(256) } },
        400,
        'INVALID_ARGUMENT',
      ],
      [
        'POST',
        '/transfers',
        { body: { fromId: rich, toId: poor, amount: '1' }, headers: { 'idempotency-key': 'has space' } },
        400,
        'INVALID_ARGUMENT',
      ],
      ['POST', `/accounts/${poor}/deposits`, { body: { amount: '9223372036854775807' } }, 409, 'BALANCE_LIMIT'],
      ['POST', `/accounts/${nobody}/deposits`, { body: { amount: '1' } }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/holds', { body: { fromId: poor, amount: '100000' } }, 409, 'INSUFFICIENT_FUNDS'],
      ['POST', '/holds', { body: { fromId: rich, amount: '1', expiresInMs: 0 } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/holds', { body: { fromId: rich, amount: '1', expiresInMs: '5' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/holds', { body: { fromId: rich, toId: rich, amount: '1' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/holds', { body: { fromId: closed, amount: '1' } }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', '/holds', { body: { toId: rich, amount: '1' } }, 400, 'INVALID_ARGUMENT'],
      ['GET', `/holds/${nobody}`, {}, 404, 'HOLD_NOT_FOUND'],
      ['POST', `/holds/${nobody}/post`, {}, 404, 'HOLD_NOT_FOUND'],
      ['POST', `/holds/${nobody}/void`, {}, 404, 'HOLD_NOT_FOUND'],
      ['POST', `/holds/${nobody}/post`, { body: { amount: '0' } }, 400, 'INVALID_ARGUMENT'],
      ['GET', `/accounts/${nobody}/holds`, {}, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', `/transfers/${nobody}/reversals`, {}, 404, 'TRANSFER_NOT_FOUND'],
      ['POST', `/transfers/${nobody}/reversals`, { body: { amount: 'x' } }, 400, 'INVALID_ARGUMENT'],
      [
        'POST',
        '/transfers/batch',
        { body: { items: [{ id: nobody, toId: rich, amount: '1' }], atomic: 'yes' } },
        400,
        'INVALID_ARGUMENT',
      ],
      ['POST', `/accounts/${closed}/deposits`, { body: { amount: '1' } }, 404, 'ACCOUNT_NOT_FOUND'],
      ['POST', `/accounts/${poor}/withdrawals`, { body: { amount: '100000' } }, 409, 'INSUFFICIENT_FUNDS'],
      ['POST', '/accounts', { body: { balance: '-1' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/accounts', { body: { balance: 10 } }, 400, 'INVALID_ARGUMENT'],
      ['POST', `/accounts/${rich}/close`, {}, 409, 'ACCOUNT_NOT_EMPTY'],
      ['GET', '/accounts/not-a-uuid', {}, 400, 'INVALID_ARGUMENT'],
      ['GET', `/accounts/${nobody}`, {}, 404, 'ACCOUNT_NOT_FOUND'],
      ['GET', `/transfers/${nobody}`, {}, 404, 'TRANSFER_NOT_FOUND'],
      ['GET', '/accounts?limit=0', {}, 400, 'INVALID_ARGUMENT'],
      ['GET', '/accounts?limit=abc', {}, 400, 'INVALID_ARGUMENT'],
      ['GET', '/accounts?cursor=garbage', {}, 400, 'INVALID_ARGUMENT'],
      ['GET', '/accounts?sort=desc', {}, 400, 'INVALID_ARGUMENT'],
      ['GET', `/accounts/${nobody}/transfers`, {}, 404, 'ACCOUNT_NOT_FOUND'],
      ['GET', '/nowhere', {}, 404, 'NOT_FOUND'],
      ['DELETE', `/accounts/${rich}`, {}, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/transfers/batch', {}, 405, 'METHOD_NOT_ALLOWED'],
      ['POST', '/transfers/batch', { raw: '{"items":[{"id":"x","amount":{"nested":1}}]}' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '000' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/transfers', { body: { fromId: rich, toId: poor, amount: '09223372036854775808' } }, 400, 'INVALID_ARGUMENT'],
      ['GET', '/accounts?limit=1001', {}, 400, 'INVALID_ARGUMENT'],
    ];
    assert.ok(corpus.length >= 25);
    const before = await checksum();
    for (const [method, path, init, status, code] of corpus) {
      const label = `${method} ${path.slice(0, 60)} ${JSON.stringify(init).slice(0, 80)}`;
      const reply = await api(method, path, init);
      assert.equal(reply.status, status, `${label}: ${JSON.stringify(reply.body)}`);
      assert.match(reply.type, /^application\/problem\+json/, label);
      assert.equal(reply.body.code, code, label);
      assert.equal(reply.body.status, status, label);
      assert.ok(reply.body.type && reply.body.title && reply.body.detail, label);
      assert.doesNotMatch(JSON.stringify(reply.body), /\n\s+at |node_modules|\.ts:\d+/, `${label}: no stack`);
    }
    assert.equal(await checksum(), before, 'nothing changed');
  });

  test('strict bodies: a repeated key is refused naming it, prototype poisoning says so, and nothing moves', async () => {
    const a = (await api('POST', '/accounts', { body: { balance: '500' } })).body.id;
    const b = (await api('POST', '/accounts', { body: {} })).body.id;
    const before = await checksum();
    const cases: [string, string, string, RegExp][] = [
      ['/transfers', `{"fromId":"${a}","toId":"${b}","amount":"1","amount":"400"}`, '', /names the key "amount" more than once/],
      [
        '/transfers',
        `{"fromId":"${a}","fromId":"${b}","toId":"${b}","amount":"1"}`,
        'k-dup-1',
        /names the key "fromId" more than once/,
      ],
      [`/accounts/${a}/deposits`, '{"amount":"1","amount":"2"}', '', /names the key "amount" more than once/],
      ['/accounts', '{"balance":"5","balance":"6"}', '', /names the key "balance" more than once/],
      [
        '/transfers/batch',
        `{"items":[{"id":"${randomUUID()}","fromId":"${a}","toId":"${b}","amount":"1","amount":"300"}]}`,
        '',
        /names the key "amount" more than once/,
      ],
      ['/transfers', `{"__proto__":{"amount":"1"},"fromId":"${a}","toId":"${b}","amount":"1"}`, '', /prototype poisoning/],
      [
        '/transfers',
        `{"constructor":{"prototype":{"x":1}},"fromId":"${a}","toId":"${b}","amount":"1"}`,
        '',
        /prototype poisoning/,
      ],
      ['/transfers', '{"fromId":', '', /^the body is not valid JSON \(/],
      ['/transfers', '  ', '', /^the JSON body is empty$/],
    ];
    for (const [path, raw, key, detail] of cases) {
      const reply = await api('POST', path, { raw, headers: key ? { 'idempotency-key': key } : {} });
      assert.equal(reply.status, 400, `${path} ${raw}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.code, 'INVALID_ARGUMENT');
      assert.equal(reply.body.title, 'Invalid argument');
      assert.match(reply.body.detail, detail);
    }
    assert.equal(await checksum(), before, 'nothing moved');
    // The same keys once each are fine: only a repeat within one object is refused.
    const fine = await api('POST', '/transfers', { raw: `{"fromId":"${a}","toId":"${b}","amount":"1"}` });
    assert.equal(fine.status, 201);
  });

  test("every problem's title is the short phrase of its code", async () => {
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      assert.ok(entry.title.length <= 24 && !entry.title.includes(','), `${code}: "${entry.title}"`);
    }
    const notFound = await api('GET', `/accounts/${randomUUID()}`);
    assert.equal(notFound.body.title, 'Account not found');
    const badId = await api('GET', '/accounts/not-a-uuid');
    assert.equal(badId.body.title, 'Invalid argument');
    const noRoute = await api('GET', '/nowhere');
    assert.equal(noRoute.body.title, 'Not found');
    const wrongMethod = await api('DELETE', '/accounts');
    assert.equal(wrongMethod.body.title, 'Method not allowed');
  });

  test('a known path asked with another method is 405 with Allow, before any body is read', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/accounts', 'GET, HEAD, POST'],
      ['PUT', `/accounts/${randomUUID()}`, 'GET, HEAD'],
      ['GET', '/transfers/batch', 'POST'],
      ['OPTIONS', '/transfers/batch', 'POST'],
      ['PATCH', '/verify', 'GET, HEAD'],
    ] as const) {
      const reply = await fetch(`${server.base}${path}`, {
        method,
        headers: { 'content-type': 'text/plain' },
        ...(method === 'GET' ? {} : { body: 'not json' }),
      });
      assert.equal(reply.status, 405, `${method} ${path}`);
      assert.equal(reply.headers.get('allow'), allow, `${method} ${path}`);
      const body = (await reply.json()) as { code: string; detail: string };
      assert.equal(body.code, 'METHOD_NOT_ALLOWED');
      assert.match(body.detail, new RegExp(`^${method} is not allowed on ${path}; allowed: ${allow}$`));
    }
  });

  test('a value outside a pattern is named by what it must be, not by the regular expression', async () => {
    const reply = await api('POST', '/transfers', { body: { fromId: randomUUID(), toId: randomUUID(), amount: '0' } });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.detail, 'body/amount must be a whole amount from 1 to 9223372036854775807, as a decimal string');
    const badId = await api('GET', '/accounts/nope');
    assert.equal(badId.body.detail, 'params/id must be a UUID');
    // The patterns take what the bank takes: leading zeros are read as the CLI reads them.
    const account = (await api('POST', '/accounts', { body: {} })).body.id;
    const deposit = await api('POST', `/accounts/${account}/deposits`, { body: { amount: '007' } });
    assert.deepEqual([deposit.status, deposit.body.amount], [201, '7']);
  });

  test('POST /transfers/batch: per-item status and problem in order, each item seeing the ones before; a repeat replays', async () => {
    const a = (await api('POST', '/accounts', { body: { balance: '100' } })).body.id;
    const b = (await api('POST', '/accounts', { body: {} })).body.id;
    const [t1, t2, t3, t4] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const items = [
      { id: t1, fromId: a, toId: b, amount: '70' },
      { id: t2, fromId: b, amount: '70' }, // possible only after the first
      { id: t3, fromId: a, toId: b, amount: '31' }, // a holds 30 by now
      { id: t4, toId: closed, amount: '1' },
      { fromId: a, toId: b, amount: '1' }, // no id: no idempotency key
      { id: randomUUID(), fromId: a, toId: b, amount: 1 }, // money as a JSON number
      'not an object',
      { id: randomUUID(), toId: a, amount: '5', note: 'hi' },
      { id: t1, fromId: a, toId: b, amount: '71' }, // the first id, another body
    ];
    const reply = await api('POST', '/transfers/batch', { body: { items } });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const results = reply.body.items as {
      status: number;
      replayed?: boolean;
      transfer?: { id: string };
      problem?: { code: string; detail: string };
    }[];
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 201, 409, 404, 400, 400, 400, 400, 409],
    );
    assert.deepEqual(
      results.map((r) => r.problem?.code ?? 'ok'),
      [
        'ok',
        'ok',
        'INSUFFICIENT_FUNDS',
        'ACCOUNT_NOT_FOUND',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'IDEMPOTENCY_CONFLICT',
      ],
    );
    assert.deepEqual([results[0]!.transfer!.id, results[0]!.replayed], [t1, false]);
    assert.match(results[4]!.problem!.detail, /id is required/);
    assert.match(results[5]!.problem!.detail, /decimal string/);
    assert.match(results[7]!.problem!.detail, /unknown field "note"/);
    const balances = async () => [
      (await api('GET', `/accounts/${a}`)).body.balance,
      (await api('GET', `/accounts/${b}`)).body.balance,
    ];
    assert.deepEqual(await balances(), ['30', '0']);
    const again = await api('POST', '/transfers/batch', { body: { items: items.slice(0, 2) } });
    assert.deepEqual(
      again.body.items.map((r: { status: number; replayed: boolean }) => [r.status, r.replayed]),
      [
        [201, true],
        [201, true],
      ],
    );
    assert.deepEqual(await balances(), ['30', '0'], 'the repeat moved nothing');
  });

  test('POST /transfers/batch refuses a malformed request as a whole: 400, nothing moved', async () => {
    const before = await checksum();
    const item = { id: randomUUID(), toId: rich, amount: '1' };
    for (const body of [
      {},
      { items: [] },
      { items: 'x' },
      { items: [item], more: 1 },
      { items: Array.from({ length: 1001 }, () => ({ ...item, id: randomUUID() })) },
      [],
    ]) {
      const reply = await api('POST', '/transfers/batch', { body });
      assert.equal(reply.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(reply.body.code, 'INVALID_ARGUMENT');
      assert.match(reply.type, /problem\+json/);
    }
    assert.equal(await checksum(), before, 'nothing changed');
  });

  test('healthz, the OpenAPI document and the reference page', async () => {
    assert.deepEqual((await api('GET', '/healthz')).body, { status: 'ok' });
    const openapi = await api('GET', '/openapi.json');
    assert.equal(openapi.body.openapi, '3.1.0');
    for (const path of [
      '/accounts',
      '/accounts/{id}',
      '/accounts/{id}/close',
      '/accounts/{id}/deposits',
      '/accounts/{id}/withdrawals',
      '/transfers',
      '/transfers/batch',
      '/transfers/{id}',
      '/accounts/{id}/transfers',
      '/verify',
      '/system/activity',
    ]) {
      assert.ok(openapi.body.paths[path], `OpenAPI documents ${path}`);
    }
    const docs = await fetch(`${server.base}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    const page = await fetch(`${server.base}/`);
    assert.match(await page.text(), /<title>roachbank console<\/title>/);
    // Every module of the console, served as what it is.
    for (const file of readdirSync(new URL('../packages/roachbank-app/ui/', import.meta.url))) {
      if (file === 'index.html') continue;
      const served = await fetch(`${server.base}/ui/${file}`);
      assert.equal(served.status, 200, file);
      assert.match(served.headers.get('content-type') ?? '', file.endsWith('.js') ? /^text\/javascript/ : /^text\/css/, file);
    }
  });

  test('/metrics: transfers by outcome, retries, ambiguous commits, latency, pool', async () => {
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    assert.match(metrics, /^roachbank_transfers_total\{kind="transfer",outcome="created"\} [1-9]/m);
    assert.match(metrics, /^roachbank_transfers_total\{kind="transfer",outcome="replayed"\} [1-9]/m);
    assert.match(metrics, /^roachbank_transfers_total\{kind="transfer",outcome="INSUFFICIENT_FUNDS"\} [1-9]/m);
    assert.match(metrics, /^roachbank_transaction_retries_total \d+/m);
    assert.match(metrics, /^roachbank_ambiguous_commits_total \d+/m);
    assert.match(
      metrics,
      /^roachbank_http_request_duration_seconds_bucket\{le="0\.05",method="POST",route="\/transfers",status="201"\} [1-9]/m,
    );
    assert.match(metrics, /^roachbank_pool_connections\{state="total"\} \d+/m);
    assert.match(metrics, /^roachbank_batch_size_count [1-9]/m);
  });

  test('GET /accounts newest first and by the start of an id; two ways of choosing at once are 400', async () => {
    const opened = (await api('POST', '/accounts', { body: {} })).body;
    const newest = await api('GET', '/accounts?order=newest&limit=1');
    assert.deepEqual(
      newest.body.items.map((a: { id: string }) => a.id),
      [opened.id],
    );
    const older = await api('GET', `/accounts?order=newest&limit=1&cursor=${newest.body.next}`);
    assert.notEqual(older.body.items[0].id, opened.id);
    const found = await api('GET', `/accounts?idPrefix=${opened.id.slice(0, 8).toUpperCase()}`);
    assert.ok(found.body.items.some((a: { id: string }) => a.id === opened.id));
    assert.ok(found.body.items.every((a: { id: string }) => a.id.startsWith(opened.id.slice(0, 8))));
    assert.deepEqual(
      (await api('GET', `/accounts?idPrefix=${opened.id}`)).body.items.map((a: { id: string }) => a.id),
      [opened.id],
    );
    for (const [query, message] of [
      ['idPrefix=abc', /idPrefix/],
      ['idPrefix=abcdefgh', /idPrefix/],
      ['order=sideways', /order/],
      ['order=newest&reference=r', /give one of order, reference and idPrefix, not order and reference/],
      [`reference=r&idPrefix=${opened.id.slice(0, 8)}`, /not reference and idPrefix/],
    ] as const) {
      const refused = await api('GET', `/accounts?${query}`);
      assert.equal(refused.status, 400, query);
      assert.match(refused.body.detail, message, query);
    }
  });

  test('GET /system/activity: what the server did in each interval, and the last verify', async () => {
    const report = (await api('GET', '/verify')).body;
    for (let i = 0; i < 5; i++) await api('POST', `/accounts/${rich}/deposits`, { body: { amount: '1' } });
    // The server samples every 2 s: wait for an interval that holds these deposits.
    let activity = await api('GET', '/system/activity');
    for (let tries = 0; tries < 30; tries++) {
      activity = await api('GET', '/system/activity');
      if (activity.body.samples.some((s: { movementsPerSecond: number }) => s.movementsPerSecond > 0)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(activity.status, 200);
    assert.equal(activity.body.intervalSeconds, 2);
    const busy = activity.body.samples.find((s: { movementsPerSecond: number }) => s.movementsPerSecond > 0);
    assert.ok(busy, JSON.stringify(activity.body.samples));
    assert.ok(busy.p50Ms > 0 && busy.p99Ms >= busy.p50Ms, JSON.stringify(busy));
    assert.ok(busy.meanBatchSize >= 1 && busy.poolTotal >= 1, JSON.stringify(busy));
    assert.deepEqual(activity.body.lastVerify.report.ok, report.ok);
    assert.ok(Date.parse(activity.body.lastVerify.at) <= Date.now());
  });

  test('request logs carry request ids and no secrets', async () => {
    const line = server.logs.find((l) => l.includes('"url":"/verify"'));
    assert.ok(line && JSON.parse(line).reqId);
    assert.ok(!server.logs.some((l) => l.includes('password') || l.includes('authorization')));
  });
});

describe('bearer token', () => {
  let guarded: TestServer;
  const token = 'tok-9f2c1e7a-secret';
  before(async () => {
    guarded = await startTestServer({ token, name: 'http_auth' });
  });
  after(() => guarded.close());

  test('every API route needs it; health, the UI and the reference do not; it never reaches the log', async () => {
    for (const path of ['/accounts', '/verify', '/metrics', `/transfers/${randomUUID()}`]) {
      const missing = await call(guarded.base, 'GET', path);
      assert.equal(missing.status, 401, path);
      assert.equal(missing.body.code, 'UNAUTHORIZED');
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await call(guarded.base, 'GET', path, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
      assert.equal((await call(guarded.base, 'GET', path, { headers: { authorization: token } })).status, 401);
    }
    const posted = await call(guarded.base, 'POST', '/accounts', { body: {}, headers: { authorization: `Bearer ${token}` } });
    assert.equal(posted.status, 201);
    assert.equal((await call(guarded.base, 'POST', '/accounts', { body: {} })).status, 401);
    for (const path of ['/healthz', '/', '/ui/app.js', '/openapi.json'])
      assert.equal((await fetch(`${guarded.base}${path}`)).status, 200, path);
    assert.ok(!guarded.logs.some((l) => l.includes(token)), 'the token is not logged');
  });

  test('serve refuses a non-loopback address without a token', async () => {
    const result = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], {
      DATABASE_URL: guarded.db.url,
      ROACHBANK_API_TOKEN: '',
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /refusing to listen on 0\.0\.0\.0 without an API token/);
  });
});

describe('the server and its database', () => {
  test('a database that cannot be reached is 503 problem+json, never 500', async () => {
    const dead = createPool('postgresql://nobody:secret-pw@127.0.0.1:1/none', { max: 2 });
    const app = await buildServer({ pool: dead, databaseUrl: 'postgresql://nobody:secret-pw@127.0.0.1:1/none' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      for (const [method, path, body] of [
        ['GET', '/healthz'],
        ['GET', '/accounts'],
        ['POST', '/transfers', { fromId: randomUUID(), toId: randomUUID(), amount: '1' }],
      ] as const) {
        const reply = await call(base, method, path, body ? { body } : {});
        assert.equal(reply.status, 503, `${method} ${path}: ${JSON.stringify(reply.body)}`);
        assert.match(reply.type, /problem\+json/);
        assert.match(reply.body.code, /DATABASE_UNAVAILABLE|RETRIES_EXHAUSTED/);
        assert.doesNotMatch(JSON.stringify(reply.body), /secret-pw/);
      }
      // The console's panel reads the server's memory, not the database: it still answers.
      const activity = await call(base, 'GET', '/system/activity');
      assert.deepEqual([activity.status, activity.body.lastVerify], [200, null]);
    } finally {
      await app.close();
      await dead.end();
    }
  });

  test('SIGTERM: in-flight requests finish, the process exits 0, nothing is half done', async () => {
    const db = await createTestDatabase('http_shutdown');
    try {
      const server = await startServeProcess({ DATABASE_URL: db.url, ROACHBANK_LOG_LEVEL: 'warn' });
      const { base } = server;
      const a = (await call(base, 'POST', '/accounts', { body: { balance: '100000' } })).body.id;
      const b = (await call(base, 'POST', '/accounts', { body: {} })).body.id;
      const requests = Array.from({ length: 60 }, () =>
        call(base, 'POST', '/transfers', { body: { fromId: a, toId: b, amount: '1' } }).catch((error: Error) => ({
          status: 0,
          error,
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 15));
      const exited = server.stop();
      const replies = await Promise.all(requests);
      assert.equal(await exited, 0, server.stderr());
      const statuses = replies.map((r) => r.status);
      assert.ok(
        statuses.every((s) => s === 201 || s === 503 || s === 0),
        `only done, refused while closing, or not connected: ${statuses}`,
      );
      const done = replies.filter((r) => r.status === 201).length;
      assert.ok(done > 0);
      const { rows } = await db.pool.query('SELECT balance FROM roachbank.accounts WHERE id = $1', [b]);
      assert.equal(BigInt(rows[0].balance), BigInt(done), 'every acknowledged transfer landed, nothing else did');
    } finally {
      await db.drop();
    }
  });
});
