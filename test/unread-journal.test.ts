// After an attempt whose outcome is unknown, the resubmission finds the id journaled
// and must read the journal to answer; when that read cannot be made, the answer is
// never a failure (the movement did happen): the bank sends the movement again until
// the journal answers, and says AMBIGUOUS_COMMIT if it never does. Without an earlier
// unknown outcome, an unread journal is DATABASE_UNAVAILABLE, never a refusal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { type ClientMessage, startWireProxy, type WireProxy } from './support/wire-proxy.js';

let db: TestDatabase;
let proxy: WireProxy;
let through: pg.Pool;

before(async () => {
  db = await createTestDatabase('unread_journal', { statementIsolation: 'read committed' });
  await ensureSchema(db.pool);
  proxy = await startWireProxy(Number(new URL(db.url).port));
  through = createPool(proxy.urlThrough(db.url), { max: 4 });
});
after(async () => {
  await through.end();
  await proxy.close();
  await db.drop();
});

const movesMoney = (m: ClientMessage) => m.commits && (m.type === 'S' || m.type === 'Q');
const readsJournal = (m: ClientMessage) => m.type === 'B' && /FROM roachbank\.transfers WHERE id = ANY/.test(m.statement ?? '');
const journalRows = async (id: string) =>
  Number((await db.pool.query('SELECT count(*) AS n FROM roachbank.transfers WHERE id = $1', [id])).rows[0].n);

describe('an answer that needs the journal, when the journal cannot be read', () => {
  for (const batch of [false, undefined] as const) {
    const label = batch === false ? 'single statements' : 'group commit';
    test(`${label}: the first attempt commits unseen, every later read of the journal is cut: AMBIGUOUS_COMMIT, then the replay`, async () => {
      const bank = createBank(through, { retryBudgetMs: 300, ...(batch === false ? { batch } : {}) });
      const from = await bank.createAccount({ balance: 100n });
      const to = await bank.createAccount();
      const request = { id: crypto.randomUUID(), fromId: from.id, toId: to.id, amount: 100n };
      let committed = 0;
      proxy.setPolicy((m) => {
        if (movesMoney(m) && committed++ === 0) return 'cut-after';
        return readsJournal(m) ? 'cut-before' : 'forward';
      });
      const answer = await bank.transfer(request).then(
        (outcome) => ({ ok: true as const, outcome }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      proxy.setPolicy(() => 'forward');
      assert.equal(await journalRows(request.id), 1, 'the first attempt committed');
      if (answer.ok) assert.equal(answer.outcome.replayed, true, `cuts ${JSON.stringify(proxy.cuts)}, commits seen ${committed}`);
      else {
        assert.ok(answer.error instanceof RoachbankError, String(answer.error));
        assert.equal(answer.error.code, 'AMBIGUOUS_COMMIT', answer.error.message);
      }
      const again = await bank.transfer(request);
      assert.equal(again.replayed, true, 'repeating the id learns that it happened');
      assert.equal((await bank.getAccount(to.id)).balance, 100n);
    });
  }

  test('no earlier unknown outcome: a refusal the journal cannot confirm is DATABASE_UNAVAILABLE, and this call wrote nothing', async () => {
    const bank = createBank(through, { retryBudgetMs: 300, batch: false });
    const from = await bank.createAccount({ balance: 10n });
    const to = await bank.createAccount();
    proxy.setPolicy((m) => (readsJournal(m) ? 'cut-before' : 'forward'));
    const request = { id: crypto.randomUUID(), fromId: from.id, toId: to.id, amount: 11n };
    await assert.rejects(bank.transfer(request), (error: unknown) => {
      assert.ok(error instanceof RoachbankError);
      assert.equal(error.code, 'DATABASE_UNAVAILABLE');
      assert.match(error.message, /this call wrote nothing for it; repeat the same id/);
      return true;
    });
    proxy.setPolicy(() => 'forward');
    assert.equal(await journalRows(request.id), 0);
    await assert.rejects(bank.transfer(request), { code: 'INSUFFICIENT_FUNDS' });
  });
});
