import type {
  Account,
  BalanceAt,
  ChainBalance,
  Hold,
  JournalEntry,
  JournalEntryDetail,
  Page,
  Statement,
  StatementLine,
  VerifyReport,
} from 'roachbank';
import { currencyDecimals } from 'roachbank';

// The API's JSON shapes: money as decimal strings, times as ISO 8601.

export const accountView = (a: Account) => ({
  id: a.id,
  balance: a.balance.toString(),
  held: a.held.toString(),
  available: a.available.toString(),
  currency: a.currency,
  decimals: currencyDecimals(a.currency),
  creditLimit: a.creditLimit.toString(),
  reference: a.reference,
  metadata: a.metadata,
  createdAt: a.createdAt.toISOString(),
  closedAt: a.closedAt?.toISOString() ?? null,
});

export const transferView = (t: JournalEntry) => ({
  id: t.id,
  fromId: t.fromId,
  toId: t.toId,
  amount: t.amount.toString(),
  currency: t.currency,
  createdAt: t.createdAt.toISOString(),
  holdId: t.holdId,
  reversalOf: t.reversalOf,
  reference: t.reference,
  metadata: t.metadata,
  fromSequence: t.fromSequence,
  fromBalanceAfter: t.fromBalanceAfter?.toString() ?? null,
  toSequence: t.toSequence,
  toBalanceAfter: t.toBalanceAfter?.toString() ?? null,
});

export const transferDetailView = (t: JournalEntryDetail) => ({ ...transferView(t), reversed: t.reversed.toString() });

export const holdView = (h: Hold) => ({
  id: h.id,
  fromId: h.fromId,
  toId: h.toId,
  amount: h.amount.toString(),
  status: h.status,
  createdAt: h.createdAt.toISOString(),
  expiresAt: h.expiresAt?.toISOString() ?? null,
  postedAmount: h.postedAmount?.toString() ?? null,
  transferId: h.transferId,
  reference: h.reference,
  metadata: h.metadata,
});

const chainBalanceView = (b: ChainBalance) => ({ sequence: b.sequence, balance: b.balance.toString() });

export const balanceAtView = (b: BalanceAt) => ({
  accountId: b.accountId,
  currency: b.currency,
  decimals: currencyDecimals(b.currency),
  at: b.at,
  ...chainBalanceView(b),
});

const statementLineView = (line: StatementLine) => ({
  sequence: line.sequence,
  transferId: line.transferId,
  kind: line.kind,
  createdAt: line.createdAt.toISOString(),
  change: line.change.toString(),
  balanceAfter: line.balanceAfter.toString(),
  counterpartyId: line.counterpartyId,
  reference: line.reference,
});

export const statementView = (s: Statement) => ({
  accountId: s.accountId,
  currency: s.currency,
  decimals: currencyDecimals(s.currency),
  from: s.from,
  to: s.to,
  opening: chainBalanceView(s.opening),
  closing: chainBalanceView(s.closing),
  movements: s.movements,
  lines: pageView(s.lines, statementLineView),
});

export const pageView = <T, V>(page: Page<T>, view: (item: T) => V) => ({ items: page.items.map(view), next: page.next });

export const verifyView = (r: VerifyReport) => ({
  ...r,
  totalBalance: r.totalBalance.toString(),
  moneyIn: r.moneyIn.toString(),
  moneyOut: r.moneyOut.toString(),
  heldTotal: r.heldTotal.toString(),
  currencies: r.currencies.map((c) => ({
    ...c,
    totalBalance: c.totalBalance.toString(),
    moneyIn: c.moneyIn.toString(),
    moneyOut: c.moneyOut.toString(),
  })),
  mismatched: r.mismatched.map((m) => ({ id: m.id, balance: m.balance.toString(), journal: m.journal.toString() })),
});
