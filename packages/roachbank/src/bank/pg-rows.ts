// What the pg store reads back, row by row: the driver's text columns and the
// bank's types, and the look-ups by id every answer and read shares.
import { metadataOf } from './annotations.js';
import type { Account, Hold, HoldStatus, JournalEntry } from './bank.js';
import type { MovementKind } from './movement.js';
import { holdColumns, transferColumns } from './page-statements.js';

export interface AccountRow {
  id: string;
  balance: string;
  held: string;
  currency: string;
  credit_limit: string;
  reference: string | null;
  metadata: string | null;
  created_at: Date;
  closed_at: Date | null;
}
export interface TransferRow {
  id: string;
  kind: MovementKind;
  from_id: string | null;
  to_id: string | null;
  amount: string;
  currency: string;
  created_at: Date;
  hold_id: string | null;
  reversal_of: string | null;
  reference: string | null;
  metadata: string | null;
  from_sequence: string | null;
  from_balance_after: string | null;
  to_sequence: string | null;
  to_balance_after: string | null;
}
export interface HoldRow {
  id: string;
  from_id: string;
  to_id: string | null;
  amount: string;
  status: HoldStatus;
  created_at: Date;
  expires_at: Date | null;
  posted_amount: string | null;
  transfer_id: string | null;
  reference: string | null;
  metadata: string | null;
}
export const toAccount = (row: AccountRow): Account => {
  const balance = BigInt(row.balance);
  const held = BigInt(row.held);
  return {
    id: row.id,
    balance,
    held,
    available: balance - held,
    currency: row.currency,
    creditLimit: BigInt(row.credit_limit),
    reference: row.reference,
    metadata: metadataOf(row.metadata),
    createdAt: row.created_at,
    closedAt: row.closed_at,
  };
};
export const toTransfer = (row: TransferRow): JournalEntry => ({
  id: row.id,
  kind: row.kind,
  fromId: row.from_id,
  toId: row.to_id,
  amount: BigInt(row.amount),
  currency: row.currency,
  createdAt: row.created_at,
  holdId: row.hold_id,
  reversalOf: row.reversal_of,
  reference: row.reference,
  metadata: metadataOf(row.metadata),
  ...chainOf(row),
});

/** A journal row's place in its accounts' chains, from the database's text (NULL: none). */
export const chainOf = (row: {
  from_sequence: string | null;
  from_balance_after: string | null;
  to_sequence: string | null;
  to_balance_after: string | null;
}) => ({
  fromSequence: row.from_sequence === null ? null : Number(row.from_sequence),
  fromBalanceAfter: row.from_balance_after === null ? null : BigInt(row.from_balance_after),
  toSequence: row.to_sequence === null ? null : Number(row.to_sequence),
  toBalanceAfter: row.to_balance_after === null ? null : BigInt(row.to_balance_after),
});
export const toHold = (row: HoldRow): Hold => ({
  id: row.id,
  fromId: row.from_id,
  toId: row.to_id,
  amount: BigInt(row.amount),
  status: row.status,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  postedAmount: row.posted_amount === null ? null : BigInt(row.posted_amount),
  transferId: row.transfer_id,
  reference: row.reference,
  metadata: metadataOf(row.metadata),
});

export const transfersByIdSql = `SELECT ${transferColumns} FROM roachbank.transfers WHERE id = ANY($1::UUID[])`;
export const holdsByIdSql = `SELECT ${holdColumns} FROM roachbank.holds WHERE id = ANY($1::UUID[])`;
export const reversedByIdSql =
  'SELECT transfer_id::TEXT AS id, reversed FROM roachbank.reversed_amounts WHERE transfer_id = ANY($1::UUID[])';
export const reversedMap = (rows: { id: string; reversed: string }[]) =>
  new Map(rows.map((row) => [row.id, BigInt(row.reversed)]));
