// The product tables (migrations/0001_product_schema.sql, 0004's `kind`, 0005's holds and
// reversals, 0006's currencies and credit limits, 0007's references and metadata, 0008's chains) as Drizzle sees them.
import { bigint, customType, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { type Metadata, metadataOf, metadataText } from './annotations.js';
import type { HoldStatus } from './bank.js';
import type { MovementKind } from './movement.js';

export const roachbankSchema = pgSchema('roachbank');

/** Metadata as TEXT holding its JSON (migration 0007 says why not JSONB): an object in, the same object out. */
const metadataColumn = customType<{ data: Metadata; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => metadataText(value)!,
  fromDriver: (text) => metadataOf(text)!,
});

export const accountsTable = roachbankSchema.table('accounts', {
  id: uuid('id').primaryKey(),
  balance: bigint('balance', { mode: 'bigint' }).notNull(),
  held: bigint('held', { mode: 'bigint' }).notNull().default(0n),
  currency: text('currency').notNull(),
  creditLimit: bigint('credit_limit', { mode: 'bigint' }).notNull().default(0n),
  reference: text('reference'),
  metadata: metadataColumn('metadata'),
  /** The number of its last journal row (NULL: its chain not yet back-filled, migration 0008). */
  sequence: bigint('sequence', { mode: 'number' }),
  movedAt: timestamp('moved_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  closedAt: timestamp('closed_at', { withTimezone: true }),
});

export const transfersTable = roachbankSchema.table('transfers', {
  id: uuid('id').primaryKey(),
  kind: text('kind').$type<MovementKind>().notNull(),
  fromId: uuid('from_id'),
  toId: uuid('to_id'),
  amount: bigint('amount', { mode: 'bigint' }).notNull(),
  currency: text('currency').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  holdId: uuid('hold_id'),
  reversalOf: uuid('reversal_of'),
  reference: text('reference'),
  metadata: metadataColumn('metadata'),
  fromSequence: bigint('from_sequence', { mode: 'number' }),
  fromBalanceAfter: bigint('from_balance_after', { mode: 'bigint' }),
  toSequence: bigint('to_sequence', { mode: 'number' }),
  toBalanceAfter: bigint('to_balance_after', { mode: 'bigint' }),
});

export const holdsTable = roachbankSchema.table('holds', {
  id: uuid('id').primaryKey(),
  fromId: uuid('from_id').notNull(),
  toId: uuid('to_id'),
  amount: bigint('amount', { mode: 'bigint' }).notNull(),
  status: text('status').$type<HoldStatus>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  settledAt: timestamp('settled_at', { withTimezone: true }),
  transferId: uuid('transfer_id'),
  postedAmount: bigint('posted_amount', { mode: 'bigint' }),
  reference: text('reference'),
  metadata: metadataColumn('metadata'),
});

export const reversedAmountsTable = roachbankSchema.table('reversed_amounts', {
  transferId: uuid('transfer_id').primaryKey(),
  original: bigint('original', { mode: 'bigint' }).notNull(),
  reversed: bigint('reversed', { mode: 'bigint' }).notNull(),
});
