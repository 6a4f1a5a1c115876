// What the bank's reads cost as the journal grows: rows and buffers one page of
// listAccounts and of history touches, and a balance at a moment and a statement page
// (EXPLAIN (ANALYZE, BUFFERS) of the product's own statements), and how long verify
// takes, at each journal size given.
// A book is made in SQL (generate_series): 10,000 accounts, one of them busy
// (a tenth of all movements), the rest random; balances set from the journal.
// Run: node --import tsx bench/read-costs.ts 100000 1000000 [10000000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balanceAtSql, statementSql } from '../packages/roachbank/src/bank/account-statements.js';
import { historySql, listAccountsSql } from '../packages/roachbank/src/bank/page-statements.js';
import { verifySql } from '../packages/roachbank/src/bank/verify-invariants.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { acquireEmbeddedServer } from '../packages/roachbank-app/src/database/embedded-server.js';

const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1000)) {
  throw new Error('usage: read-costs.ts <journal rows> ... (each ≥ 1000)');
}
const dataDir = await mkdtemp(join(tmpdir(), 'roachbank-read-costs-'));
const server = await acquireEmbeddedServer({ dataDir });
const pool = createPool(server.url, { max: 2 });

interface PlanNode {
  'Node Type': string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Rows the scans of a plan read, and the buffers the whole statement touched. */
async function cost(text: string, values: unknown[]): Promise<{ rows: number; buffers: number; ms: number }> {
  const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values);
  const top = (rows[0]['QUERY PLAN'] as { Plan: PlanNode; 'Execution Time': number }[])[0]!;
  let scanned = 0;
  const walk = (node: PlanNode): void => {
    if (node['Relation Name']) scanned += node['Actual Rows'] * node['Actual Loops'];
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(top.Plan);
  return {
    rows: scanned,
    buffers: top.Plan['Shared Hit Blocks'] + top.Plan['Shared Read Blocks'],
    ms: Math.round(top['Execution Time'] * 10) / 10,
  };
}

try {
  await ensureSchema(pool);
  await pool.query(`INSERT INTO roachbank.accounts (id, balance, created_at)
    SELECT gen_random_uuid(), 0, now() - (i * INTERVAL '1 second') FROM generate_series(1, 10000) AS i`);
  const { rows: ids } = await pool.query<{ id: string }>('SELECT id FROM roachbank.accounts ORDER BY id');
  const busy = ids[0]!.id;
  let made = 0;
  console.log(
    '| journal rows | listAccounts page (rows / buffers) | next page | history page, busy account | its next page | history page, quiet account | balanceAt, busy account | statement page, busy account | its next page | verify |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const size of sizes) {
    // Movements in chunks of 100,000: a tenth touch the busy account, a fifth are deposits or withdrawals.
    while (made < size) {
      const chunk = Math.min(100_000, size - made);
      await pool.query(
        `WITH a AS (SELECT array_agg(id ORDER BY id) AS ids FROM roachbank.accounts)
         INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency, created_at)
         SELECT gen_random_uuid(), CASE WHEN i % 10 = 0 THEN 'deposit' WHEN i % 10 = 5 THEN 'withdrawal' ELSE 'transfer' END,
           CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN $2::UUID ELSE a.ids[1 + (hashint4(i::INT4) & 8191)] END,
           CASE WHEN i % 10 = 5 THEN NULL WHEN i % 10 = 6 THEN $2::UUID ELSE a.ids[8193 + (hashint4((i + 7)::INT4) & 1023)] END,
           1 + (i % 50), 'XXX', now() - ((($1::INT8 + i) % 86400000) * INTERVAL '1 millisecond')
         FROM a, generate_series($1::INT8 + 1, $1::INT8 + $3::INT8) AS i`,
        [made, busy, chunk],
      );
      made += chunk;
    }
    const nets = `SELECT id, sum(d) AS net FROM (
        SELECT to_id AS id, amount AS d FROM roachbank.transfers WHERE to_id IS NOT NULL
        UNION ALL SELECT from_id, -amount FROM roachbank.transfers WHERE from_id IS NOT NULL) AS s GROUP BY id`;
    // An account the random book took below zero gets a deposit of what it lacks, so verify is ok.
    await pool.query(`INSERT INTO roachbank.transfers (id, kind, from_id, to_id, amount, currency)
      SELECT gen_random_uuid(), 'deposit', NULL, id, -net, 'XXX' FROM (${nets}) AS j WHERE net < 0`);
    await pool.query(`UPDATE roachbank.accounts AS a SET balance = j.net FROM (${nets}) AS j WHERE j.id = a.id`);
    // Every account's chain, numbered by time in one pass (as migration 0008 numbers a book
    // from before, 100 accounts at a time there), so that reads by number have numbers.
    await pool.query(`WITH legs AS (
        SELECT id, from_id AS account, -amount AS delta, created_at, true AS out FROM roachbank.transfers WHERE from_id IS NOT NULL
        UNION ALL SELECT id, to_id, amount, created_at, false FROM roachbank.transfers WHERE to_id IS NOT NULL),
      chained AS (SELECT id, out, row_number() OVER w AS n, sum(delta) OVER w AS after FROM legs
        WINDOW w AS (PARTITION BY account ORDER BY created_at, id ROWS UNBOUNDED PRECEDING)),
      per_row AS (SELECT id, max(n) FILTER (WHERE out) AS fs, max(after) FILTER (WHERE out) AS fb,
        max(n) FILTER (WHERE NOT out) AS ts, max(after) FILTER (WHERE NOT out) AS tb FROM chained GROUP BY id)
      UPDATE roachbank.transfers AS t SET from_sequence = fs, from_balance_after = fb, to_sequence = ts, to_balance_after = tb
      FROM per_row WHERE t.id = per_row.id`);
    await pool.query(`UPDATE roachbank.accounts AS a SET sequence = c.n, moved_at = c.last FROM (
        SELECT account, count(*) AS n, max(created_at) AS last FROM (
          SELECT from_id AS account, created_at FROM roachbank.transfers WHERE from_id IS NOT NULL
          UNION ALL SELECT to_id, created_at FROM roachbank.transfers WHERE to_id IS NOT NULL) AS l GROUP BY account) AS c
      WHERE c.account = a.id`);
    await pool.query('UPDATE roachbank.accounts SET sequence = 0 WHERE sequence IS NULL'); // no row yet
    // The numbering rewrote every row: compact the table again, so that what is measured is
    // the journal a bank writes, not this script's update (its rows stay where the update put them).
    await pool.query('VACUUM FULL roachbank.transfers');
    made = Number((await pool.query('SELECT count(*) AS n FROM roachbank.transfers')).rows[0].n);
    await pool.query('VACUUM ANALYZE roachbank.transfers');
    await pool.query('VACUUM ANALYZE roachbank.accounts');

    const limit = 51; // a page of 50 and the row that says another follows
    const middle = (await pool.query('SELECT created_at, id FROM roachbank.accounts ORDER BY created_at, id OFFSET 5000 LIMIT 1'))
      .rows[0];
    const listFirst = await cost(listAccountsSql(false), [limit]);
    const listNext = await cost(listAccountsSql(true), [limit, middle.created_at, middle.id]);
    const deep = (
      await pool.query(
        `SELECT created_at, created_at::TEXT AS at, CASE WHEN from_id = $1 THEN from_sequence ELSE to_sequence END AS sequence
         FROM roachbank.transfers WHERE from_id = $1 OR to_id = $1 ORDER BY created_at DESC, 3 DESC OFFSET 10000 LIMIT 1`,
        [busy],
      )
    ).rows[0];
    const historyFirst = await cost(historySql(false), [busy, limit]);
    const historyNext = await cost(historySql(true), [busy, limit, deep.created_at, deep.sequence]);
    const quiet = await cost(historySql(false), [ids[9000]!.id, limit]);
    // The busy account at a moment deep in its history, and its statement for the day before
    // that moment: the first page and the page after the 10,000th line.
    const balanceAt = await cost(balanceAtSql, [busy, deep.at]);
    const period = [busy, new Date(deep.created_at.getTime() - 86_400_000).toISOString(), deep.at, limit];
    const statementFirst = await cost(statementSql(false), period);
    const tenThousandth = (
      await pool.query(
        `SELECT created_at::TEXT AS at, CASE WHEN from_id = $1 THEN from_sequence ELSE to_sequence END AS sequence
         FROM roachbank.transfers WHERE (from_id = $1 OR to_id = $1) AND created_at >= $2 AND created_at < $3
         ORDER BY created_at, 2 OFFSET 9999 LIMIT 1`,
        period.slice(0, 3),
      )
    ).rows[0];
    const statementNext = await cost(statementSql(true), [...period, tenThousandth.at, tenThousandth.sequence]);
    const started = performance.now();
    const report = (await pool.query(verifySql)).rows[0];
    const verifyMs = Math.round(performance.now() - started);
    if (report.mismatched_count !== '0' || report.negative !== '0')
      throw new Error(`the book does not verify: ${JSON.stringify(report)}`);
    if (report.broken_chains !== '0') throw new Error(`${report.broken_chains} accounts' chains do not verify`);
    const cell = (c: { rows: number; buffers: number }) => `${c.rows} / ${c.buffers}`;
    const timed = (c: { rows: number; buffers: number; ms: number }) => `${cell(c)}, ${c.ms} ms`;
    console.log(
      `| ${made.toLocaleString('en')} | ${cell(listFirst)} | ${cell(listNext)} | ${cell(historyFirst)} | ${cell(historyNext)} | ${cell(quiet)} | ${timed(balanceAt)} | ${timed(statementFirst)} | ${timed(statementNext)} | ${verifyMs.toLocaleString('en')} ms |`,
    );
  }
} finally {
  await pool.end();
  await server.release();
  await rm(dataDir, { recursive: true, force: true });
}
