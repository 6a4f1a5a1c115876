// The tutorial's models.py and dbinit.sql: the Account model of the CRUD demo.
import { bigint, pgTable, uuid } from 'drizzle-orm/pg-core';

/** The "accounts" table of the tutorial's dbinit.sql, mapped for Drizzle (SQLAlchemy's `Account`). */
export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey(),
  balance: bigint('balance', { mode: 'bigint' }),
});

/** One row of `accounts`: `{ id: string; balance: bigint | null }`. */
export type Account = typeof accounts.$inferSelect;

/** dbinit.sql, made safe to run again. */
export const createAccountsTable = 'CREATE TABLE IF NOT EXISTS accounts (id UUID PRIMARY KEY, balance INT8)';
