#!/usr/bin/env python3
"""The psycopg2 tutorial's program, for the benchmark only (bench/tutorials.ts).

The tutorial (../shared/seed) describes its example.py without printing it:
create the accounts table and insert two rows (1000 and 250), print the
balances as `Balances at <asctime>:` and one `(id, balance)` line per row,
move 100 from account 1 to account 2 inside a transaction with an
application-level retry loop that sleeps with exponential backoff on a retry
error (SQLSTATE 40001), print the balances again, and delete the rows so it can
run again. This file does exactly that with psycopg2, as the tutorial does.

The one change to run on PostgreSQL: rows are inserted with INSERT ... ON
CONFLICT DO UPDATE, PostgreSQL's form of CockroachDB's UPSERT.
"""

import logging
import os
import random
import time

import psycopg2
from psycopg2.errors import SerializationFailure


def create_accounts(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS accounts (id INT PRIMARY KEY, balance INT)")
        cur.execute(
            "INSERT INTO accounts (id, balance) VALUES (1, 1000), (2, 250) "
            "ON CONFLICT (id) DO UPDATE SET balance = excluded.balance"
        )
    conn.commit()


def print_balances(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT id, balance FROM accounts ORDER BY id")
        rows = cur.fetchall()
    conn.commit()
    print(f"Balances at {time.asctime()}:")
    for row in rows:
        print(row)


def delete_accounts(conn):
    with conn.cursor() as cur:
        cur.execute("DELETE FROM accounts")
    conn.commit()


def transfer_funds(conn, frm, to, amount):
    with conn.cursor() as cur:
        cur.execute("SELECT balance FROM accounts WHERE id = %s", (frm,))
        from_balance = cur.fetchone()[0]
        if from_balance < amount:
            raise RuntimeError(f"Insufficient funds in {frm}: have {from_balance}, need {amount}")
        cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, frm))
        cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, to))
    conn.commit()


def run_transaction(conn, op, max_retries=3):
    """Runs op(conn), and again after a rollback and a growing sleep on a retry error."""
    for retry in range(1, max_retries + 1):
        try:
            op(conn)
            return
        except SerializationFailure as error:
            logging.debug("got error: %s", error)
            conn.rollback()
            time.sleep((2**retry) * 0.1 * (random.random() + 0.5))
    raise ValueError(f"Transaction did not succeed after {max_retries} retries")


def main():
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    create_accounts(conn)
    print_balances(conn)
    try:
        run_transaction(conn, lambda conn: transfer_funds(conn, 1, 2, 100))
    except ValueError as error:
        logging.debug("run_transaction(conn, op) failed: %s", error)
    print_balances(conn)
    delete_accounts(conn)
    conn.close()


if __name__ == "__main__":
    main()
