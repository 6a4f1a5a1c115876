// What the orm store selects, the same way in every read and movement: an account
// with its `held` as of now, a hold with its status as of now, a journal row whole.
import { sql } from 'drizzle-orm';
import type { Metadata } from './annotations.js';
import type { Account, Hold } from './bank.js';
import { accountsTable as accounts, holdsTable as holds, transfersTable as transfers } from './product-schema.js';

export const position = (column: typeof accounts.createdAt | typeof transfers.createdAt | typeof holds.createdAt) =>
  sql<string>`${column}::TEXT`;

// An account's `held` as every read shows it: less its pending holds whose time has passed
// (the same rule as PgStore's `accountColumns`).
// Written out, not interpolated: Drizzle leaves a column unqualified in a one-table
// query, and inside the subquery `id` would then name the hold's.
export const heldNow = sql<string>`(CASE WHEN accounts.held = 0 THEN 0 ELSE accounts.held - COALESCE((
  SELECT sum(due.amount) FROM roachbank.holds AS due
  WHERE due.from_id = accounts.id AND due.status = 'pending' AND due.expires_at <= now()), 0) END)::TEXT`;
export const accountFields = {
  id: accounts.id,
  balance: accounts.balance,
  held: heldNow,
  currency: accounts.currency,
  creditLimit: accounts.creditLimit,
  reference: accounts.reference,
  metadata: accounts.metadata,
  createdAt: accounts.createdAt,
  closedAt: accounts.closedAt,
};
export const toAccount = ({
  held,
  ...row
}: {
  id: string;
  balance: bigint;
  held: string;
  currency: string;
  creditLimit: bigint;
  reference: string | null;
  metadata: Metadata | null;
  createdAt: Date;
  closedAt: Date | null;
}) => {
  const heldAmount = BigInt(held);
  return { ...row, held: heldAmount, available: row.balance - heldAmount } satisfies Account;
};

/** A hold's status is `expired` from the moment its time passes, whatever the row says. */
export const holdFields = {
  id: holds.id,
  fromId: holds.fromId,
  toId: holds.toId,
  amount: holds.amount,
  status: sql<
    Hold['status']
  >`CASE WHEN ${holds.status} = 'pending' AND ${holds.expiresAt} <= now() THEN 'expired' ELSE ${holds.status} END`,
  createdAt: holds.createdAt,
  expiresAt: holds.expiresAt,
  postedAmount: holds.postedAmount,
  transferId: holds.transferId,
  reference: holds.reference,
  metadata: holds.metadata,
};
export const transferFields = {
  id: transfers.id,
  kind: transfers.kind,
  fromId: transfers.fromId,
  toId: transfers.toId,
  amount: transfers.amount,
  currency: transfers.currency,
  createdAt: transfers.createdAt,
  holdId: transfers.holdId,
  reversalOf: transfers.reversalOf,
  reference: transfers.reference,
  metadata: transfers.metadata,
  fromSequence: transfers.fromSequence,
  fromBalanceAfter: transfers.fromBalanceAfter,
  toSequence: transfers.toSequence,
  toBalanceAfter: transfers.toBalanceAfter,
};
