// The product tables (migrations/0001_product_schema.sql, 0004's `kind`) as Drizzle sees them.
import { bigint, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { MovementKind } from './movement.js';

export const roachbankSchema = pgSchema('roachbank');

export const accountsTable = roachbankSchema.table('accounts', {
  id: uuid('id').primaryKey(),
  balance: bigint('balance', { mode: 'bigint' }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  closedAt: timestamp('closed_at', { withTimezone: true }),
});

export const transfersTable = roachbankSchema.table('transfers', {
  id: uuid('id').primaryKey(),
  kind: text('kind').$type<MovementKind>().notNull(),
  fromId: uuid('from_id'),
  toId: uuid('to_id'),
  amount: bigint('amount', { mode: 'bigint' }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
