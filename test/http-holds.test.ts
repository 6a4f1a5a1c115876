// Holds, reversals and atomic groups over real HTTP: what a payments client sends and
// sees, status by status, with Idempotency-Keys and the OpenAPI links that lead from
// one to the next.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './support/http-server.js';

let server: TestServer;
interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the server sent
  body: any;
  replayed: boolean;
}
async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(`${server.base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: await response.json(),
    replayed: response.headers.get('idempotent-replayed') === 'true',
  };
}
const open = async (balance: string) => (await api('POST', '/accounts', { balance })).body.id as string;

before(async () => {
  server = await startTestServer({ name: 'http_holds' });
});
after(() => server.close());

describe('holds, reversals and atomic groups over HTTP', () => {
  test('a card flow: hold with an Idempotency-Key, read, post part of it; the account shows held and available', async () => {
    const card = await open('100');
    const shop = await open('0');
    const key = { 'idempotency-key': `auth-${randomUUID()}` };
    const placed = await api('POST', '/holds', { fromId: card, toId: shop, amount: '60', expiresInMs: 60_000 }, key);
    assert.equal(placed.status, 201);
    assert.deepEqual([placed.body.status, placed.body.amount, placed.body.postedAmount], ['pending', '60', null]);
    const again = await api('POST', '/holds', { fromId: card, toId: shop, amount: '60', expiresInMs: 60_000 }, key);
    assert.deepEqual([again.status, again.replayed, again.body.id], [201, true, placed.body.id]);
    const conflict = await api('POST', '/holds', { fromId: card, toId: shop, amount: '61', expiresInMs: 60_000 }, key);
    assert.deepEqual([conflict.status, conflict.body.code], [409, 'IDEMPOTENCY_CONFLICT']);
    const account = (await api('GET', `/accounts/${card}`)).body;
    assert.deepEqual([account.balance, account.held, account.available], ['100', '60', '40']);
    const refused = await api('POST', `/accounts/${card}/withdrawals`, { amount: '41' });
    assert.deepEqual([refused.status, refused.body.code], [409, 'INSUFFICIENT_FUNDS']);
    assert.deepEqual((await api('GET', `/holds/${placed.body.id}`)).body, placed.body);
    assert.deepEqual(
      (await api('GET', `/accounts/${card}/holds`)).body.items.map((h: { id: string }) => h.id),
      [placed.body.id],
    );

    const posted = await api('POST', `/holds/${placed.body.id}/post`, { amount: '45' });
    assert.equal(posted.status, 201);
    assert.deepEqual(
      [posted.body.fromId, posted.body.toId, posted.body.amount, posted.body.holdId],
      [card, shop, '45', placed.body.id],
    );
    const repeated = await api('POST', `/holds/${placed.body.id}/post`, { amount: '45' });
    assert.deepEqual([repeated.status, repeated.replayed, repeated.body.id], [201, true, posted.body.id]);
    const other = await api('POST', `/holds/${placed.body.id}/post`);
    assert.deepEqual([other.status, other.body.code], [409, 'HOLD_NOT_PENDING']);
    const voided = await api('POST', `/holds/${placed.body.id}/void`);
    assert.deepEqual([voided.status, voided.body.code], [409, 'HOLD_NOT_PENDING']);
    const after = (await api('GET', `/accounts/${card}`)).body;
    assert.deepEqual([after.balance, after.held, after.available], ['55', '0', '55']);
    assert.equal((await api('GET', `/holds/${placed.body.id}`)).body.status, 'posted');
  });

  test('void, expiry, and a post of more than the hold', async () => {
    const card = await open('50');
    const hold = (await api('POST', '/holds', { fromId: card, amount: '50' })).body;
    const tooMuch = await api('POST', `/holds/${hold.id}/post`, { amount: '51' });
    assert.deepEqual([tooMuch.status, tooMuch.body.code], [409, 'POST_EXCEEDS_HOLD']);
    const voided = await api('POST', `/holds/${hold.id}/void`);
    assert.deepEqual([voided.status, voided.body.status], [200, 'voided']);
    const again = await api('POST', `/holds/${hold.id}/void`);
    assert.deepEqual([again.status, again.replayed], [200, true]);
    const short = (await api('POST', '/holds', { fromId: card, amount: '50', expiresInMs: 50 })).body;
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal((await api('GET', `/holds/${short.id}`)).body.status, 'expired');
    const late = await api('POST', `/holds/${short.id}/post`);
    assert.deepEqual([late.status, late.body.code], [409, 'HOLD_EXPIRED']);
    assert.equal((await api('GET', `/accounts/${card}`)).body.available, '50');
  });

  test('reversals: in part with a key, then the rest; never more than the original', async () => {
    const a = await open('100');
    const b = await open('0');
    const transfer = (await api('POST', '/transfers', { fromId: a, toId: b, amount: '70' })).body;
    const key = { 'idempotency-key': `refund-${randomUUID()}` };
    const part = await api('POST', `/transfers/${transfer.id}/reversals`, { amount: '20' }, key);
    assert.equal(part.status, 201);
    assert.deepEqual([part.body.fromId, part.body.toId, part.body.amount, part.body.reversalOf], [b, a, '20', transfer.id]);
    assert.equal((await api('POST', `/transfers/${transfer.id}/reversals`, { amount: '20' }, key)).replayed, true);
    assert.equal((await api('GET', `/transfers/${transfer.id}`)).body.reversed, '20');
    const over = await api('POST', `/transfers/${transfer.id}/reversals`, { amount: '51' });
    assert.deepEqual([over.status, over.body.code], [409, 'REVERSAL_EXCEEDS_ORIGINAL']);
    const rest = await api('POST', `/transfers/${transfer.id}/reversals`);
    assert.deepEqual([rest.status, rest.body.amount], [201, '50']);
    const balances = await Promise.all([a, b].map(async (id) => (await api('GET', `/accounts/${id}`)).body.balance));
    assert.deepEqual(balances, ['100', '0']);
  });

  test('an atomic batch: a split payment with a hold in it; one failing item fails the group with GROUP_FAILED', async () => {
    const buyer = await open('100');
    const seller = await open('0');
    const fees = await open('0');
    const items = [
      { id: randomUUID(), fromId: buyer, toId: seller, amount: '90' },
      { id: randomUUID(), fromId: buyer, toId: fees, amount: '5' },
      { kind: 'hold', id: randomUUID(), fromId: buyer, amount: '5', expiresInMs: 60_000 },
    ];
    const applied = await api('POST', '/transfers/batch', { items, atomic: true });
    assert.equal(applied.status, 200);
    assert.deepEqual(
      applied.body.items.map((r: { status: number }) => r.status),
      [201, 201, 201],
    );
    assert.equal(applied.body.items[2].hold.status, 'pending');
    const failing = await api('POST', '/transfers/batch', {
      items: [
        { id: randomUUID(), fromId: seller, toId: fees, amount: '10' },
        { id: randomUUID(), fromId: buyer, toId: seller, amount: '1' },
      ],
      atomic: true,
    });
    assert.deepEqual(
      failing.body.items.map((r: { status: number; problem?: { code: string } }) => [r.status, r.problem?.code]),
      [
        [409, 'GROUP_FAILED'],
        [409, 'INSUFFICIENT_FUNDS'],
      ],
    );
    const malformed = await api('POST', '/transfers/batch', {
      items: [
        { id: randomUUID(), fromId: seller, toId: fees, amount: '10' },
        { fromId: seller, amount: '1' },
      ],
      atomic: true,
    });
    assert.deepEqual(
      malformed.body.items.map((r: { status: number; problem?: { code: string } }) => [r.status, r.problem?.code]),
      [
        [409, 'GROUP_FAILED'],
        [400, 'INVALID_ARGUMENT'],
      ],
    );
    const balances = await Promise.all([buyer, seller, fees].map(async (id) => (await api('GET', `/accounts/${id}`)).body));
    assert.deepEqual(
      balances.map((b) => [b.balance, b.held]),
      [
        ['5', '5'],
        ['90', '0'],
        ['5', '0'],
      ],
    );
  });

  test('the OpenAPI document links a hold to its post and void, and a transfer to its reversal', async () => {
    const doc = (await api('GET', '/openapi.json')).body;
    const links = doc.paths['/holds'].post.responses['201'].links;
    assert.deepEqual(Object.keys(links).sort(), ['GetHold', 'PostHold', 'VoidHold']);
    assert.equal(doc.paths['/transfers'].post.responses['201'].links.Reverse.operationId, 'reverseTransfer');
    assert.ok(doc.paths['/transfers/{id}/reversals'].post);
    assert.ok(doc.paths['/accounts/{id}/holds'].get);
    const report = (await api('GET', '/verify')).body;
    assert.equal(report.ok, true, JSON.stringify(report));
  });
});
