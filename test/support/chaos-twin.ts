// The second process of the chaos run's twin submissions: a bank of its own (group
// commit, its own pool through the fault proxy) that submits every transfer it reads
// on stdin, one JSON object per line, at once, and answers each on stdout as one
// JSON line: {"id","ok":true,"replayed"} or {"id","ok":false,"code"}. It ends once
// stdin is closed and every answer is out.
// Run as: node --import tsx test/support/chaos-twin.ts <connection string>
import { createInterface } from 'node:readline';
import { createBank } from '../../packages/roachbank/src/bank/create-bank.js';
import { createPool } from '../../packages/roachbank/src/db/create-pool.js';
import { RoachbankError } from '../../packages/roachbank/src/errors/roachbank-error.js';
import { sqlState } from '../../packages/roachbank/src/txn/classify-error.js';

const url = process.argv[2];
if (!url) throw new Error('usage: chaos-twin.ts <connection string>');
const pool = createPool(url, { max: 8, statementIsolation: 'read committed' });
const bank = createBank(pool);
const pending: Promise<void>[] = [];
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const { id, fromId, toId, amount } = JSON.parse(line) as { id: string; fromId: string; toId: string; amount: string };
  pending.push(
    bank.transfer({ id, fromId, toId, amount: BigInt(amount) }).then(
      (outcome) => answer({ id, ok: true, replayed: outcome.replayed }),
      (error: unknown) =>
        answer({ id, ok: false, code: error instanceof RoachbankError ? error.code : (sqlState(error) ?? String(error)) }),
    ),
  );
}
await Promise.all(pending);
await pool.end();

function answer(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
