import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Flavor } from '../packages/roachbank/src/bank/bank.js';
import { createBank } from '../packages/roachbank/src/bank/create-bank.js';
import { ensureSchema } from '../packages/roachbank/src/db/migrate.js';
import { errorCatalogue } from '../packages/roachbank/src/errors/error-catalogue.js';
import type { ErrorCode } from '../packages/roachbank/src/errors/roachbank-error.js';
import { runCli } from './support/run-cli.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

let db: TestDatabase;
const ids = { rich: '', poor: '', closed: '', spent: '' };
const unknown = randomUUID();

/** Every byte of the product tables, hashed: unchanged means unchanged. */
async function checksum(): Promise<string> {
  const { rows } = await db.pool.query(`
    SELECT md5(
      COALESCE((SELECT string_agg(a::TEXT, '|' ORDER BY id) FROM roachbank.accounts a), '') || '#' ||
      COALESCE((SELECT string_agg(t::TEXT, '|' ORDER BY id) FROM roachbank.transfers t), '') || '#' ||
      COALESCE((SELECT string_agg(h::TEXT, '|' ORDER BY id) FROM roachbank.holds h), '') || '#' ||
      COALESCE((SELECT string_agg(r::TEXT, '|' ORDER BY transfer_id) FROM roachbank.reversed_amounts r), '') || '#' ||
      COALESCE((SELECT string_agg(m::TEXT, '|' ORDER BY version) FROM roachbank.schema_migrations m), '')
    ) AS sum`);
  return rows[0].sum;
}

before(async () => {
  db = await createTestDatabase('cli_bank');
  await ensureSchema(db.pool);
  const bank = createBank(db.pool);
  ids.rich = (await bank.createAccount({ balance: 1000n })).id;
  ids.poor = (await bank.createAccount()).id;
  ids.closed = (await bank.createAccount()).id;
  await bank.closeAccount(ids.closed);
  ids.spent = randomUUID();
  await bank.transfer({ id: ids.spent, fromId: ids.rich, toId: ids.poor, amount: 100n });
});
after(() => db.drop());

/** Bad invocations, each with the code it must get; `$rich` etc. stand for the accounts made above. */
const corpus: Array<[string[], ErrorCode]> = [
  [['transfer', 'not-a-uuid', '$poor', '10'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', 'not-a-uuid', '10'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '-5'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '0'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '1.5'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', 'ten'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', ''], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '9223372036854775808'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '99999999999999999999999999'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '1e3'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '0x10'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '+5'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', ' 5'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$rich', '5'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$unknown', '5'], 'ACCOUNT_NOT_FOUND'],
  [['transfer', '$unknown', '$rich', '5'], 'ACCOUNT_NOT_FOUND'],
  [['transfer', '$rich', '$closed', '5'], 'ACCOUNT_NOT_FOUND'],
  [['transfer', '$poor', '$rich', '101'], 'INSUFFICIENT_FUNDS'],
  [['transfer', '$rich', '$poor', '99', '--id', '$spent'], 'IDEMPOTENCY_CONFLICT'],
  [['transfer', '$poor', '$rich', '100', '--id', '$spent'], 'IDEMPOTENCY_CONFLICT'],
  [['deposit', '$poor', '100', '--id', '$spent'], 'IDEMPOTENCY_CONFLICT'],
  [['transfer', '$rich', '$poor', '5', '--id', 'not-a-uuid'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor'], 'INVALID_ARGUMENT'],
  [['transfer'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '5', '--force'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '5', 'extra'], 'INVALID_ARGUMENT'],
  [['deposit', '$closed', '5'], 'ACCOUNT_NOT_FOUND'],
  [['deposit', '$rich', '9223372036854775807'], 'BALANCE_LIMIT'],
  [['withdraw', '$rich', '1001'], 'INSUFFICIENT_FUNDS'],
  [['withdraw', '$unknown', '1'], 'ACCOUNT_NOT_FOUND'],
  [['accounts', 'show', "'; DROP TABLE roachbank.accounts; --"], 'INVALID_ARGUMENT'],
  [['accounts', 'show', '$unknown'], 'ACCOUNT_NOT_FOUND'],
  [['deposit', '$rich', '1; DROP TABLE roachbank.transfers'], 'INVALID_ARGUMENT'],
  [['accounts', 'create', '--balance', '-1'], 'INVALID_ARGUMENT'],
  [['accounts', 'create', '--balance', 'lots'], 'INVALID_ARGUMENT'],
  [['accounts', 'close', '$rich'], 'ACCOUNT_NOT_EMPTY'],
  [['accounts', 'close', '$unknown'], 'ACCOUNT_NOT_FOUND'],
  [['accounts', 'list', '--limit', '0'], 'INVALID_ARGUMENT'],
  [['accounts', 'list', '--limit', '5000'], 'INVALID_ARGUMENT'],
  [['accounts', 'list', '--cursor', 'garbage'], 'INVALID_ARGUMENT'],
  [['accounts', 'list', '--id-prefix', 'abc'], 'INVALID_ARGUMENT'],
  [['accounts', 'list', '--newest', '--reference', 'r'], 'INVALID_ARGUMENT'],
  [['accounts', 'list', '--reference', 'r', '--id-prefix', 'abcdef01'], 'INVALID_ARGUMENT'],
  [['history', 'not-a-uuid'], 'INVALID_ARGUMENT'],
  [['history', '$unknown'], 'ACCOUNT_NOT_FOUND'],
  [['--flavor', 'mysql', 'verify'], 'INVALID_ARGUMENT'],
  [['hold', '$poor', '101'], 'INSUFFICIENT_FUNDS'],
  [['hold', '$rich', '$poor', '5', '--expires', 'soon'], 'INVALID_ARGUMENT'],
  [['hold', '$rich', '$poor', '5', '--expires', '400d'], 'INVALID_ARGUMENT'],
  [['hold', '$rich', 'not-a-uuid', '5'], 'INVALID_ARGUMENT'],
  [['hold', '$rich', '$closed', '5'], 'ACCOUNT_NOT_FOUND'],
  [['post', '$unknown'], 'HOLD_NOT_FOUND'],
  [['void', '$unknown'], 'HOLD_NOT_FOUND'],
  [['holds', '$unknown'], 'ACCOUNT_NOT_FOUND'],
  [['reverse', '$unknown'], 'TRANSFER_NOT_FOUND'],
  [['reverse', '$spent', '101'], 'REVERSAL_EXCEEDS_ORIGINAL'],
  [['transfer', '$rich', '$poor', '5', '--atomic'], 'INVALID_ARGUMENT'],
  [['no-such-command'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '5', '--reference', ''], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '5', '--reference', 'x'.repeat(129)], 'INVALID_ARGUMENT'],
  [['deposit', '$rich', '5', '--metadata', '[1,2]'], 'INVALID_ARGUMENT'],
  [['deposit', '$rich', '5', '--metadata', '{"a":1,"a":2}'], 'INVALID_ARGUMENT'],
  [['deposit', '$rich', '5', '--metadata', '{not json'], 'INVALID_ARGUMENT'],
  [['accounts', 'create', '--metadata', `{"pad":"${'x'.repeat(4100)}"}`], 'INVALID_ARGUMENT'],
  [['hold', '$rich', '5', '--reference', 'tab\there'], 'INVALID_ARGUMENT'],
  [['transfer', '$rich', '$poor', '100', '--id', '$spent', '--reference', 'other'], 'IDEMPOTENCY_CONFLICT'],
  [['history'], 'INVALID_ARGUMENT'],
  [['history', '$rich', '--reference', 'r'], 'INVALID_ARGUMENT'],
  [['history', '--reference', ''], 'INVALID_ARGUMENT'],
  [['accounts', 'list', '--reference', 'x'.repeat(129)], 'INVALID_ARGUMENT'],
  [['balance', 'not-a-uuid'], 'INVALID_ARGUMENT'],
  [['balance', '$unknown'], 'ACCOUNT_NOT_FOUND'],
  [['balance', '$rich', '--at', 'yesterday'], 'INVALID_ARGUMENT'],
  [['balance', '$rich', '--at', '2026-02-30T00:00:00Z'], 'INVALID_ARGUMENT'],
  [['statement', '$rich'], 'INVALID_ARGUMENT'],
  [['statement', '$rich', '--from', '2026-12-01T00:00:00Z'], 'INVALID_ARGUMENT'],
  [['statement', '$rich', '--from', 'monday', '--to', '2026-12-01T00:00:00Z'], 'INVALID_ARGUMENT'],
  [['statement', '$rich', '--from', '2026-12-05T00:00:00Z', '--to', '2026-12-04T00:00:00Z'], 'INVALID_ARGUMENT'],
  [['statement', '$unknown', '--from', '2000-01-01T00:00:00Z', '--to', '2001-01-01T00:00:00Z'], 'ACCOUNT_NOT_FOUND'],
  [
    ['statement', '$rich', '--from', '2000-01-01T00:00:00Z', '--to', '2001-01-01T00:00:00Z', '--cursor', 'garbage'],
    'INVALID_ARGUMENT',
  ],
  [
    ['statement', '$rich', '--from', '2000-01-01T00:00:00Z', '--to', '2001-01-01T00:00:00Z', '--csv', '--limit', '5'],
    'INVALID_ARGUMENT',
  ],
];

function expand(args: string[]): string[] {
  return args.map(
    (a) => ({ $rich: ids.rich, $poor: ids.poor, $closed: ids.closed, $spent: ids.spent, $unknown: unknown })[a] ?? a,
  );
}

for (const flavor of ['pg', 'orm'] as const satisfies readonly Flavor[]) {
  describe(`bad input through the CLI (${flavor}): the code, one line, no stack, nothing changed`, () => {
    test(`${corpus.length} bad invocations`, async () => {
      assert.ok(corpus.length >= 30);
      const before = await checksum();
      for (const [args, code] of corpus) {
        const argv = expand(args);
        const env = { DATABASE_URL: db.url, ROACHBANK_FLAVOR: flavor };
        const json = await runCli(['--json', ...argv], env);
        const label = `roachbank ${args.join(' ')}`;
        assert.equal(json.code, errorCatalogue[code].exitCode, `${label}: exit ${json.code}, ${json.stderr}`);
        assert.equal(json.stdout, '', label);
        assert.equal(JSON.parse(json.stderr).error.code, code, label);
        const human = await runCli(argv, env);
        assert.equal(human.code, json.code, label);
        assert.match(
          human.stderr,
          new RegExp(`^roachbank: ${code}: [^\\n]+\\n$`),
          `${label}: one line, got ${JSON.stringify(human.stderr)}`,
        );
        assert.doesNotMatch(human.stderr, /\n\s+at /, 'no stack trace');
      }
      assert.equal(await checksum(), before, 'the database is byte for byte unchanged');
    });
  });
}

describe('roachbank transfer --file', () => {
  test('CSV and JSON lines: one result line per item in order, exit status of the worst, a repeat replays', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roachbank-file-'));
    try {
      const bank = createBank(db.pool);
      const a = (await bank.createAccount({ balance: 100n })).id;
      const b = (await bank.createAccount()).id;
      const [t1, t2, t3] = [randomUUID(), randomUUID(), randomUUID()];
      const csv = join(dir, 'payouts.csv');
      await writeFile(
        csv,
        `id,fromId,toId,amount\n${t1},${a},${b},60\n${t2},${b},,60\n${t3},${a},${b},41\n,not-a-uuid,${b},1\n,${a},${b},1,2\n`,
      );
      const first = await runCli(['transfer', '--file', csv], { DATABASE_URL: db.url });
      assert.equal(first.code, 4, first.stderr);
      const lines = first.stdout.trim().split('\n');
      assert.equal(lines.length, 5);
      assert.match(lines[0]!, new RegExp(`^line 2: transferred 60 from ${a} to ${b}, transfer id ${t1}$`));
      assert.match(lines[1]!, new RegExp(`^line 3: withdrew 60 from ${b}`), 'the second item sees the first');
      assert.match(lines[2]!, /^line 4: INSUFFICIENT_FUNDS: account .* has 40 available, cannot debit 41$/);
      assert.match(lines[3]!, /^line 5: INVALID_ARGUMENT: source account id must be a UUID/);
      assert.match(lines[4]!, /^line 6: INVALID_ARGUMENT: line 6 has 5 cells, the header 4$/);
      assert.match(first.stderr, /^5 movements: 2 moved, 0 already done, 3 failed\n$/);
      assert.deepEqual(await bank.balances([a, b]), [40n, 0n]);
      const again = await runCli(['--json', 'transfer', '--file', csv], { DATABASE_URL: db.url });
      const results = again.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.deepEqual(
        results.map((r) => r.line),
        [2, 3, 4, 5, 6],
      );
      assert.deepEqual(
        results.slice(0, 2).map((r) => r.replayed),
        [true, true],
      );
      assert.deepEqual(
        results.slice(2).map((r) => r.error.code),
        ['INSUFFICIENT_FUNDS', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'],
      );
      assert.deepEqual(await bank.balances([a, b]), [40n, 0n], 'the repeat moved nothing');
      const piped = await runCli(
        ['--json', 'transfer', '--file', '-'],
        { DATABASE_URL: db.url },
        undefined,
        `{"fromId":"${a}","toId":"${b}","amount":"40"}\n\nnot json\n`,
      );
      assert.equal(piped.code, 2, piped.stderr);
      const [moved, broken] = piped.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.deepEqual([moved.line, moved.transfer.amount, broken.line, broken.error.code], [1, '40', 3, 'INVALID_ARGUMENT']);
      assert.deepEqual(await bank.balances([a, b]), [0n, 40n]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('one strictness with the HTTP API: a key named twice fails its line, a byte-order mark is skipped in JSON lines as in CSV', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roachbank-file-'));
    try {
      const bank = createBank(db.pool);
      const a = (await bank.createAccount({ balance: 500n })).id;
      const b = (await bank.createAccount()).id;
      const jsonl = join(dir, 'twice.jsonl');
      await writeFile(
        jsonl,
        `\uFEFF{"fromId":"${a}","toId":"${b}","amount":"1"}\n{"fromId":"${a}","toId":"${b}","amount":"1","amount":"400"}\n`,
      );
      const run = await runCli(['transfer', '--file', jsonl], { DATABASE_URL: db.url });
      assert.equal(run.code, 2, run.stderr);
      const lines = run.stdout.trim().split('\n');
      assert.match(lines[0]!, /^line 1: transferred 1 from /, 'the byte-order mark is not part of the first line');
      assert.match(lines[1]!, /^line 2: INVALID_ARGUMENT: line 2 names the key "amount" more than once in one object$/);
      assert.deepEqual(await bank.balances([a, b]), [499n, 1n], 'neither 400 nor the first amount of the refused line moved');
      const csv = join(dir, 'bom.csv');
      await writeFile(csv, `\uFEFFfromId,toId,amount\n${a},${b},2\n`);
      const fromCsv = await runCli(['transfer', '--file', csv], { DATABASE_URL: db.url });
      assert.equal(fromCsv.code, 0, fromCsv.stderr);
      assert.deepEqual(await bank.balances([a, b]), [497n, 3n]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a file that is not JSON lines or CSV, is empty, holds too much or cannot be read moves nothing (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roachbank-file-'));
    try {
      const file = (name: string, text: string) => writeFile(join(dir, name), text).then(() => join(dir, name));
      const cases: Array<[string[], RegExp]> = [
        [['transfer', '--file', await file('words.txt', 'hello world\nfoo bar\n')], /neither JSON lines .* nor CSV/],
        [['transfer', '--file', await file('empty.csv', '\n\n')], /holds no movements/],
        [['transfer', '--file', await file('header.csv', 'fromId,toId,amount\n')], /only a header row/],
        [['transfer', '--file', await file('quote.csv', 'fromId,toId,amount\n"open,1,2\n')], /not valid CSV/],
        [
          ['transfer', '--file', await file('twice.csv', `fromId,toId,amount,amount\n${ids.rich},${ids.poor},1,400\n`)],
          /the header names the column "amount" more than once/,
        ],
        [
          ['transfer', '--file', await file('many.jsonl', `${'{"toId":"x","amount":"1"}\n'.repeat(1001)}`)],
          /1001 movements; at most 1000/,
        ],
        [['transfer', '--file', join(dir, 'missing.csv')], /cannot read/],
        [['transfer', '--file', join(dir, 'missing.csv'), ids.rich], /takes no FROM TO AMOUNT/],
      ];
      const before = await checksum();
      for (const [args, message] of cases) {
        const result = await runCli(args, { DATABASE_URL: db.url });
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^roachbank: INVALID_ARGUMENT: .*${message.source}[^\n]*\n$`));
        assert.equal(result.stdout, '');
      }
      assert.equal(await checksum(), before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('references and metadata on the command line', () => {
  test('written with --reference and --metadata, shown to a person, kept in --json, found with history --reference', async () => {
    const env = { DATABASE_URL: db.url };
    const order = `order-${randomUUID()}`;
    const shop = await runCli(['--json', 'accounts', 'create', '--reference', order, '--metadata', '{"kind":"shop","n":1}'], env);
    assert.equal(shop.code, 0, shop.stderr);
    const shopId = JSON.parse(shop.stdout).id as string;
    assert.deepEqual(JSON.parse(shop.stdout).metadata, { kind: 'shop', n: 1 });
    const paid = await runCli(['transfer', ids.rich, shopId, '3', '--reference', order, '--metadata', '{"cart":[1,2]}'], env);
    assert.equal(paid.code, 0, paid.stderr);
    assert.match(paid.stdout, new RegExp(`^reference ${order}$`, 'm'));
    assert.match(paid.stdout, /^metadata {2}\{"cart":\[1,2\]\}$/m);
    const fee = await runCli(['--json', 'withdraw', shopId, '1', '--reference', order], env);
    const feeId = JSON.parse(fee.stdout).transfer.id as string;
    // A CSV column and a JSON line carry them too.
    const dir = await mkdtemp(join(tmpdir(), 'roachbank-refs-'));
    const csv = join(dir, 'refs.csv');
    await writeFile(csv, `fromId,toId,amount,reference\n${ids.rich},${shopId},2,${order}\n`);
    const jsonl = join(dir, 'refs.jsonl');
    await writeFile(
      jsonl,
      `${JSON.stringify({ fromId: ids.rich, toId: shopId, amount: '1', reference: order, metadata: { n: 2 } })}\n`,
    );
    for (const file of [csv, jsonl]) {
      const moved = await runCli(['transfer', '--file', file], env);
      assert.equal(moved.code, 0, moved.stderr);
    }
    await rm(dir, { recursive: true, force: true });
    const found = await runCli(['--json', 'history', '--reference', order], env);
    assert.equal(found.code, 0, found.stderr);
    const rows = JSON.parse(found.stdout).items as { id: string; amount: string; reference: string; metadata: unknown }[];
    assert.deepEqual(
      rows.map((row) => [row.amount, row.metadata]),
      [
        ['3', { cart: [1, 2] }],
        ['1', null],
        ['2', null],
        ['1', { n: 2 }],
      ],
    );
    assert.equal(rows[1]!.id, feeId);
    const table = await runCli(['history', '--reference', order], env);
    assert.match(table.stdout, /^WHEN\s+KIND\s+AMOUNT\s+FROM\s+TO\s+TRANSFER$/m);
    assert.equal(table.stdout.trim().split('\n').length, 5, 'a header and four rows');
    const history = await runCli(['history', shopId], env);
    assert.match(history.stdout, /REFERENCE/);
    assert.match(history.stdout, new RegExp(order));
    const accounts = await runCli(['accounts', 'list', '--reference', order], env);
    assert.match(accounts.stdout, new RegExp(`^${shopId}\\s`, 'm'));
    const byPrefix = await runCli(['accounts', 'list', '--id-prefix', shopId.slice(0, 8)], env);
    assert.match(byPrefix.stdout, new RegExp(`^${shopId}\\s`, 'm'));
    const newest = await runCli(['--json', 'accounts', 'list', '--newest', '--limit', '1'], env);
    const latest = await runCli(['--json', 'accounts', 'create'], env);
    const newer = JSON.parse((await runCli(['--json', 'accounts', 'list', '--newest', '--limit', '1'], env)).stdout);
    assert.equal(newer.items[0].id, JSON.parse(latest.stdout).id, 'newest first starts at the account just opened');
    assert.notEqual(JSON.parse(newest.stdout).items[0].id, newer.items[0].id);
    assert.match(
      (await runCli(['accounts', 'list', '--newest', '--limit', '1'], env)).stdout,
      /more: roachbank accounts list --newest --cursor /,
    );
    assert.match(
      (await runCli(['history', '--reference', 'nobody-has-this'], env)).stdout,
      /no transfers with reference nobody-has-this/,
    );
  });
});

describe('a scripted session', () => {
  async function session(flavor: Flavor): Promise<unknown[]> {
    const fresh = await createTestDatabase(`session_${flavor}`);
    const env = { DATABASE_URL: fresh.url };
    const cli = async (...args: string[]) => {
      const result = await runCli(['--json', '--flavor', flavor, ...args], env);
      return { code: result.code, out: result.stdout ? JSON.parse(result.stdout) : JSON.parse(result.stderr) };
    };
    try {
      const steps: unknown[] = [];
      const a = await cli('accounts', 'create', '--balance', '1000');
      const b = await cli('accounts', 'create');
      const transferId = '0b4c5e28-58f4-4c1e-8f63-0a5e4f3b2a10';
      steps.push(a, b);
      steps.push(await cli('deposit', b.out.id, '50'));
      steps.push(await cli('transfer', a.out.id, b.out.id, '300', '--id', transferId));
      steps.push(await cli('transfer', a.out.id, b.out.id, '300', '--id', transferId));
      steps.push(await cli('transfer', a.out.id, b.out.id, '301', '--id', transferId));
      steps.push(await cli('withdraw', b.out.id, '350'));
      steps.push(await cli('accounts', 'close', b.out.id));
      steps.push(await cli('history', b.out.id));
      steps.push(await cli('accounts', 'show', a.out.id));
      steps.push(await cli('verify'));
      // Ids and times differ from run to run; everything else must be the same.
      const names = new Map([
        [a.out.id, 'A'],
        [b.out.id, 'B'],
        [transferId, 'T'],
      ]);
      return JSON.parse(
        JSON.stringify(steps)
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => names.get(id) ?? 'ID')
          .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME')
          .replace(/"elapsedMs":\d+/g, '"elapsedMs":0'),
      );
    } finally {
      await fresh.drop();
    }
  }

  test('balance --at and statement: for a person, --json, and the whole period --csv', async () => {
    const env = { DATABASE_URL: db.url };
    const bank = createBank(db.pool);
    const account = (await bank.createAccount({ balance: 12_345n, currency: 'USD' })).id;
    const other = (await bank.createAccount({ currency: 'USD' })).id;
    await bank.transfer({ fromId: account, toId: other, amount: 2_000n, reference: 'invoice 9' });
    const [from, to] = ['2000-01-01T00:00:00Z', new Date(Date.now() + 60_000).toISOString()];

    const human = await runCli(['balance', account], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /: 103\.45 USD\nafter its movement number 2\n$/);
    const before = await runCli(['--json', 'balance', account, '--at', from], env);
    assert.deepEqual([JSON.parse(before.stdout).balance, JSON.parse(before.stdout).sequence], ['0', 0]);

    const page = await runCli(['statement', account, '--from', from, '--to', to, '--limit', '1'], env);
    assert.equal(page.code, 0, page.stderr);
    assert.match(page.stdout, /opening balance 0\.00 USD \(after movement 0\)/);
    assert.match(page.stdout, /\b1 +\S+ \S+ +deposit +\+123\.45 USD +123\.45 USD/);
    assert.match(page.stdout, /closing balance 103\.45 USD \(after movement 2; 2 in the period\)/);
    const more = /more: roachbank statement .* --cursor (\S+)/.exec(page.stdout)![1]!;
    const next = await runCli(['--json', 'statement', account, '--from', from, '--to', to, '--cursor', more], env);
    const line = JSON.parse(next.stdout).lines.items[0];
    assert.deepEqual([line.sequence, line.change, line.balanceAfter, line.reference], [2, '-2000', '10345', 'invoice 9']);

    const csv = await runCli(['statement', account, '--from', from, '--to', to, '--csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = csv.stdout.trim().split('\n');
    assert.deepEqual(
      [rows[0], rows[1], rows.at(-1), rows.length],
      [
        'sequence,created_at,kind,transfer_id,counterparty_id,reference,change,balance_after',
        '0,,opening,,,,,0',
        '2,,closing,,,,,10345',
        5,
      ],
    );
    assert.match(rows[3]!, new RegExp(`^2,[^,]+,transfer,[0-9a-f-]{36},${other},invoice 9,-2000,10345$`));
  });

  test('works identically with --flavor pg and --flavor orm', async () => {
    const pg = await session('pg');
    assert.deepEqual(await session('orm'), pg);
    const codes = (pg as { code: number }[]).map((s) => s.code);
    assert.deepEqual(codes, [0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0]);
    const [, , , first, replay] = pg as { out: { replayed: boolean } }[];
    assert.deepEqual([first!.out.replayed, replay!.out.replayed], [false, true]);
    const verify = pg.at(-1) as { out: { ok: boolean; totalBalance: string } };
    assert.deepEqual([verify.out.ok, verify.out.totalBalance], [true, '700']);
  });
});
