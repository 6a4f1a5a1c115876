// The tutorial's models.py: the Account model of the CRUD demo, for Drizzle.
// The table itself is dbinit.sql (`createAccountsTable` in crud-story.ts).
import { bigint, pgTable, uuid } from 'drizzle-orm/pg-core';

/** The "accounts" table of the tutorial's dbinit.sql, mapped for Drizzle (SQLAlchemy's `Account`). */
export const accounts = pgTable('accounts', {
  id: uuid('id').primaryKey(),
  balance: bigint('balance', { mode: 'bigint' }),
});
