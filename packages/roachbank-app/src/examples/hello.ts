// Seed demo 1, the psycopg2 tutorial's example.py in TypeScript: create two
// accounts, print the balances, move 100 from account 1 to account 2 inside a
// transaction that is retried on 40001 with exponential backoff, print the
// balances again, and delete the rows so the demo can run again.
//
// Kept from the tutorial on purpose: it writes its own SQL through the driver.
// Changed: its own table (hello_accounts), so it never touches the ORM demo's
// `accounts` or the product schema; INSERT … ON CONFLICT instead of UPSERT,
// which only CockroachDB knows; and the retry loop is runTransaction, which
// also re-runs the transfer after a deadlock or a lost connection.
import type pg from 'pg';
import { RetriesExhaustedError, runTransaction } from 'roachbank';
import { asctime } from './asctime.js';

type Print = (line: string) => void;

async function createAccounts(pool: pg.Pool): Promise<void> {
  await pool.query('CREATE TABLE IF NOT EXISTS hello_accounts (id INT8 PRIMARY KEY, balance INT8)');
  await pool.query(
    `INSERT INTO hello_accounts (id, balance) VALUES (1, 1000), (2, 250)
     ON CONFLICT (id) DO UPDATE SET balance = excluded.balance`,
  );
}

async function printBalances(pool: pg.Pool, print: Print): Promise<void> {
  const { rows } = await pool.query<{ id: string; balance: string }>(
    'SELECT id, balance FROM hello_accounts WHERE id IN (1, 2) ORDER BY id',
  );
  print(`Balances at ${asctime()}:`);
  for (const row of rows) print(`(${row.id}, ${row.balance})`);
}

async function deleteAccounts(pool: pg.Pool): Promise<void> {
  await pool.query('DELETE FROM hello_accounts WHERE id IN (1, 2)');
}

export async function transferFunds(client: pg.PoolClient, from: number, to: number, amount: bigint): Promise<void> {
  // Check the current balance.
  const { rows } = await client.query<{ balance: string }>('SELECT balance FROM hello_accounts WHERE id = $1', [from]);
  const fromBalance = BigInt(rows[0]?.balance ?? 0);
  if (fromBalance < amount) {
    throw new Error(`Insufficient funds in ${from}: have ${fromBalance}, need ${amount}`);
  }
  // Perform the transfer.
  await client.query('UPDATE hello_accounts SET balance = balance - $1 WHERE id = $2', [amount, from]);
  await client.query('UPDATE hello_accounts SET balance = balance + $1 WHERE id = $2', [amount, to]);
}

/**
 * Runs the hello demo on `pool`, printing exactly what the tutorial prints.
 *
 * @example
 * await runHelloExample(pool); // Balances at Fri Oct 30 18:27:00 2020: / (1, 1000) / (2, 250) / ...
 */
export async function runHelloExample(pool: pg.Pool, print: Print = console.log): Promise<void> {
  await createAccounts(pool);
  await printBalances(pool, print);

  const amount = 100n;
  const toId = 2;
  const fromId = 1;
  try {
    await runTransaction(pool, (client) => transferFunds(client, fromId, toId, amount));
  } catch (error) {
    // As in the tutorial: a transfer that kept failing is reported, and the demo goes on.
    if (!(error instanceof RetriesExhaustedError)) throw error;
    console.error(`runTransaction failed: ${error.message}`);
  }

  await printBalances(pool, print);
  await deleteAccounts(pool);
}
