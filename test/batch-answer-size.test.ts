// A full batch's answer fits in 16 KiB, the results buffer of CockroachDB clusters
// that keep the old default of `sql.defaults.results_buffer.size`: past it the server
// has begun sending rows and can no longer retry the statement itself, so a read
// refresh failure reaches the client as 40001 (`StatementAnswerRow` cites the rule). The
// bytes are counted as the server writes them in the text format node-postgres asks
// for, with each timestamptz at CockroachDB's widest text (`2026-12-02 14:40:00.123456+00:00`),
// every account in a currency of the longest code (16 characters) with 19-digit balances
// and credit limits.
import assert from 'node:assert/strict';
import { randomUUID as newId } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { groupCommitDefaults } from '../packages/roachbank/src/bank/group-commit.js';
import { maxMoney } from '../packages/roachbank/src/bank/money.js';
import { requestKind } from '../packages/roachbank/src/bank/movement.js';
import { moveBatchSql } from '../packages/roachbank/src/bank/movement-statements.js';
import { PgBank } from '../packages/roachbank/src/bank/pg-bank.js';
import { migrate } from '../packages/roachbank/src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

const resultsBuffer = 16 * 1024;
const size = groupCommitDefaults.maxSize;
const cockroachTimestampWidth = '2026-12-02 14:40:00.123456+00:00'.length;
const timestamptzOid = 1184;

/**
 * What the server writes for one run of a prepared statement: ParseComplete,
 * BindComplete, RowDescription, one DataRow per row, CommandComplete, ReadyForQuery.
 */
function answerBytes(result: pg.QueryResult<unknown[]>): number {
  const fields = result.fields.reduce((sum, field) => sum + Buffer.byteLength(field.name) + 1 + 18, 0);
  const rowDescription = 1 + 4 + 2 + fields;
  const dataRows = result.rows.reduce<number>((sum, row) => {
    const values = row.reduce<number>((bytes, value, i) => {
      if (value === null) return bytes + 4;
      const width = result.fields[i]!.dataTypeID === timestamptzOid ? cockroachTimestampWidth : Buffer.byteLength(String(value));
      return bytes + 4 + width;
    }, 0);
    return sum + 1 + 4 + 2 + values;
  }, 0);
  const commandComplete = 1 + 4 + `SELECT ${result.rows.length}`.length + 1;
  return 5 + 5 + rowDescription + dataRows + commandComplete + 6;
}

describe(`a batch of ${size} movements answers in less than ${resultsBuffer} bytes`, () => {
  let db: TestDatabase;
  let raw: pg.Client;
  let bank: PgBank;

  before(async () => {
    db = await createTestDatabase('batch_answer');
    await migrate(db.pool);
    bank = new PgBank(db.pool, { batch: false });
    // Every value as the text the server sent, so its width is the wire's.
    raw = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (text: string) => text } });
    await raw.connect();
  });
  after(async () => {
    await raw.end();
    await db.drop();
  });

  async function runBatch(
    items: readonly {
      id: string;
      fromId: string | null;
      toId: string | null;
      amount: bigint;
      kind?: string;
      reversalOf?: string;
    }[],
  ) {
    const result = await raw.query<unknown[]>({
      text: moveBatchSql,
      values: [
        items.map((item) => item.id),
        items.map((item) => item.fromId),
        items.map((item) => item.toId),
        items.map((item) => item.amount.toString()),
        items.map((item) => item.kind ?? requestKind(item)),
        items.map((item) => item.reversalOf ?? null),
        items.map(() => null),
        // References and metadata are written, never answered: the widest of each costs the answer nothing.
        items.map(() => 'r'.repeat(128)),
        items.map(() => JSON.stringify({ pad: 'x'.repeat(4080) })),
      ],
      rowMode: 'array',
    });
    assert.equal(result.rows.length, items.length);
    return result;
  }

  test('journaled, replayed, refused for funds, refused for a closed account: each fits', async (t) => {
    // The widest balance and credit limit a refusal reports: 19 digits each; the longest currency code.
    // (4 × 10^18 of each: together still short of the largest amount, so that can be refused.)
    const rich = 4_000_000_000_000_000_000n;
    const currency = 'WIDEST_CODE_0016';
    const sources = await Promise.all(
      Array.from({ length: size }, () => bank.createAccount({ balance: rich, currency, creditLimit: rich })),
    );
    const sink = await bank.createAccount({ currency });
    const transfers = sources.map((source) => ({ id: newId(), fromId: source.id, toId: sink.id, amount: 1n }));

    const journaled = await runBatch(transfers);
    assert.ok(
      journaled.rows.every((row) => row[0] !== null),
      'every item journaled',
    );
    const replayed = await runBatch(transfers);
    const refused = await runBatch(
      sources.map((source) => ({ id: newId(), fromId: source.id, toId: sink.id, amount: maxMoney })),
    );
    assert.ok(
      refused.rows.every((row) => row[0] === null),
      'every item refused',
    );
    const closed = await bank.createAccount({ currency });
    await bank.closeAccount(closed.id);
    const toClosed = await runBatch(sources.map((source) => ({ id: newId(), fromId: source.id, toId: closed.id, amount: 1n })));

    // Reversals refused for what is left, from a source holding 19 digits.
    const backwards = await runBatch(
      transfers.map((t) => ({
        id: newId(),
        kind: 'reversal',
        reversalOf: t.id,
        fromId: sink.id,
        toId: t.fromId,
        amount: maxMoney,
      })),
    );
    assert.ok(
      backwards.rows.every((row) => row[0] === null),
      'every reversal refused',
    );

    for (const [name, result] of Object.entries({ journaled, replayed, refused, toClosed, backwards })) {
      const bytes = answerBytes(result);
      t.diagnostic(`${name}: ${bytes} bytes`);
      assert.ok(bytes <= resultsBuffer, `${name}: ${bytes} bytes for ${size} items, more than ${resultsBuffer}`);
    }
  });
});
