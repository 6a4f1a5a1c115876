import type {
  Account,
  Annotation,
  BalanceAt,
  Hold,
  JournalEntry,
  MoveAnswer,
  MovementOutcome,
  Page,
  Statement,
  VerifyReport,
} from 'roachbank';
import { accountSide, defaultCurrency, formatMinorUnits } from 'roachbank';

/** JSON with money as decimal strings (DESIGN §6) and dates as ISO 8601. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Prints a value as JSON or, for humans, as the given lines. */
export function print(json: boolean, value: unknown, human: () => string[]): void {
  process.stdout.write(`${json ? toJson(value) : human().join('\n')}\n`);
}

const when = (date: Date) =>
  date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/**
 * An amount as a person reads it: in its currency's decimals with the code (`123.45 USD`);
 * without a currency (`XXX`), the whole number as before.
 */
export const shown = (amount: bigint, currency: string) =>
  currency === defaultCurrency ? amount.toString() : `${formatMinorUnits(amount, currency)} ${currency}`;

export function accountLines(account: Account): string[] {
  const { currency } = account;
  return [
    `account  ${account.id}`,
    `balance    ${shown(account.balance, currency)}`,
    `held       ${shown(account.held, currency)}`,
    `available  ${shown(account.available, currency)}`,
    ...(account.creditLimit > 0n ? [`credit     ${shown(account.creditLimit, currency)}`] : []),
    ...annotationLines(account, '  '),
    `opened     ${when(account.createdAt)}`,
    `status     ${account.closedAt ? `closed ${when(account.closedAt)}` : 'open'}`,
  ];
}

/** A hold, in its source's currency, and whether the call found it already done. */
export function holdLines(hold: Hold, replayed: boolean, currency: string): string[] {
  const status =
    hold.status === 'posted' ? `posted ${shown(hold.postedAmount!, currency)} (transfer ${hold.transferId})` : hold.status;
  return [
    ...(replayed ? ['already done, nothing changed again:'] : []),
    `hold     ${hold.id}`,
    `amount   ${shown(hold.amount, currency)} from ${hold.fromId}${hold.toId ? ` to ${hold.toId}` : ' (a withdrawal when posted)'}`,
    `status   ${status}`,
    `placed   ${when(hold.createdAt)}`,
    `expires  ${hold.expiresAt ? when(hold.expiresAt) : 'never'}`,
    ...annotationLines(hold, ''),
  ];
}

/** A reference and metadata, one line each where there is one (`pad` aligns them with the lines above). */
function annotationLines({ reference, metadata }: Annotation, pad: string): string[] {
  return [
    ...(reference === null ? [] : [`reference${pad} ${reference}`]),
    ...(metadata === null ? [] : [`metadata${pad}  ${JSON.stringify(metadata)}`]),
  ];
}

export function holdTable(accountId: string, page: Page<Hold>, currency: string): string[] {
  if (page.items.length === 0) return ['no holds'];
  const rows = page.items.map((h) => [
    when(h.createdAt),
    h.status,
    shown(h.amount, currency),
    h.toId ?? '',
    h.expiresAt ? when(h.expiresAt) : 'never',
    h.id,
  ]);
  const lines = table(['PLACED', 'STATUS', 'AMOUNT', 'TO', 'EXPIRES', 'HOLD'], rows, new Set([2]));
  if (page.next) lines.push('', `more: roachbank holds ${accountId} --cursor ${page.next}`);
  return lines;
}

/** A table with a header row; columns listed in `right` are right-aligned (numbers). */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** A page of accounts; `filter` the flags that chose them (` --reference "R"`), repeated in the next page's command. */
export function accountTable(page: Page<Account>, filter = ''): string[] {
  if (page.items.length === 0) return [filter === '' || filter === ' --newest' ? 'no accounts' : `no accounts with${filter}`];
  const rows = page.items.map((a) => [
    a.id,
    shown(a.balance, a.currency),
    when(a.createdAt),
    a.closedAt ? when(a.closedAt) : '',
    a.reference ?? '',
  ]);
  const lines = referencedTable(['ID', 'BALANCE', 'OPENED', 'CLOSED', 'REFERENCE'], rows, page.items, new Set([1]));
  if (page.next) lines.push('', `more: roachbank accounts list${filter} --cursor ${page.next}`);
  return lines;
}

/** An account's journal from its own side: money in is +, money out is −. */
export function historyTable(accountId: string, page: Page<JournalEntry>): string[] {
  if (page.items.length === 0) return ['no transfers'];
  const rows = page.items.map((t) => {
    // The account's balance after the movement is none for a row not yet back-filled.
    const { out, balanceAfter, counterpartyId } = accountSide(accountId, t);
    const kind = t.kind !== 'transfer' ? t.kind : out ? 'transfer out' : 'transfer in';
    return [
      when(t.createdAt),
      kind,
      `${out ? '-' : '+'}${shown(t.amount, t.currency)}`,
      balanceAfter === null ? '' : shown(balanceAfter, t.currency),
      counterpartyId ?? '',
      t.id,
      t.reference ?? '',
    ];
  });
  const header = ['WHEN', 'KIND', 'AMOUNT', 'BALANCE', 'COUNTERPARTY', 'TRANSFER', 'REFERENCE'];
  const lines = referencedTable(header, rows, page.items, new Set([2, 3]));
  if (page.next) lines.push('', `more: roachbank history ${accountId} --cursor ${page.next}`);
  return lines;
}

export function balanceAtLines(answer: BalanceAt): string[] {
  return [
    `account ${answer.accountId} at ${answer.at}: ${shown(answer.balance, answer.currency)}`,
    answer.sequence === 0 ? 'no movement yet by then' : `after its movement number ${answer.sequence}`,
  ];
}

/** A statement page: its period, opening balance, lines with the balance after each, closing balance. */
export function statementLines(statement: Statement): string[] {
  const { accountId, currency, opening, closing, lines } = statement;
  const rows = lines.items.map((line) => [
    String(line.sequence),
    when(line.createdAt),
    line.kind,
    `${line.change > 0n ? '+' : '-'}${shown(line.change < 0n ? -line.change : line.change, currency)}`,
    shown(line.balanceAfter, currency),
    line.counterpartyId ?? '',
    line.transferId,
    line.reference ?? '',
  ]);
  const header = ['#', 'WHEN', 'KIND', 'CHANGE', 'BALANCE', 'COUNTERPARTY', 'TRANSFER', 'REFERENCE'];
  const out = [
    `statement of ${accountId} from ${statement.from} to ${statement.to}`,
    `opening balance ${shown(opening.balance, currency)} (after movement ${opening.sequence})`,
    ...(rows.length === 0 ? ['no movements in this period'] : referencedTable(header, rows, lines.items, new Set([0, 3, 4]))),
    `closing balance ${shown(closing.balance, currency)} (after movement ${closing.sequence}; ${statement.movements} in the period)`,
  ];
  if (lines.next) {
    out.push('', `more: roachbank statement ${accountId} --from ${statement.from} --to ${statement.to} --cursor ${lines.next}`);
  }
  return out;
}

/** The journal rows of one reference, oldest first, with both their sides. */
export function referenceTable(reference: string, page: Page<JournalEntry>): string[] {
  if (page.items.length === 0) return [`no transfers with reference ${reference}`];
  const rows = page.items.map((t) => [
    when(t.createdAt),
    t.kind,
    shown(t.amount, t.currency),
    t.fromId ?? '',
    t.toId ?? '',
    t.id,
  ]);
  const lines = table(['WHEN', 'KIND', 'AMOUNT', 'FROM', 'TO', 'TRANSFER'], rows, new Set([2]));
  if (page.next) lines.push('', `more: roachbank history --reference ${JSON.stringify(reference)} --cursor ${page.next}`);
  return lines;
}

/** A table whose last column, the reference, is left out when no row has one. */
function referencedTable(
  header: string[],
  rows: string[][],
  items: readonly Pick<Annotation, 'reference'>[],
  right: ReadonlySet<number>,
): string[] {
  if (items.some((item) => item.reference !== null)) return table(header, rows, right);
  return table(
    header.slice(0, -1),
    rows.map((row) => row.slice(0, -1)),
    right,
  );
}

const whatMoved = ({ kind, fromId, toId, amount: minor, currency, holdId, reversalOf }: MovementOutcome['transfer']) => {
  const amount = shown(minor, currency);
  return (
    (kind === 'deposit'
      ? `deposited ${amount} into ${toId}`
      : kind === 'withdrawal'
        ? `withdrew ${amount} from ${fromId}`
        : `transferred ${amount} from ${fromId} to ${toId}`) +
    (holdId ? ` (posting hold ${holdId})` : '') +
    (reversalOf ? ` (reversing ${reversalOf})` : '')
  );
};

export function outcomeLines({ transfer, replayed }: MovementOutcome): string[] {
  const { id } = transfer;
  const annotated = annotationLines(transfer, '');
  if (replayed)
    return [
      `already done at ${when(transfer.createdAt)}, nothing moved again: ${whatMoved(transfer)}`,
      `transfer id ${id}`,
      ...annotated,
    ];
  return [whatMoved(transfer), `transfer id ${id} (run again with --id ${id} to repeat safely)`, ...annotated];
}

/** One item of `transfer --file` on one line: a movement, or a hold. */
export function movementLine(outcome: MoveAnswer): string {
  const again = (at: Date) => (outcome.replayed ? `already done at ${when(at)}, nothing moved again: ` : '');
  if ('hold' in outcome) {
    const { hold } = outcome;
    return `${again(hold.createdAt)}held ${hold.amount} of ${hold.fromId}${hold.toId ? ` for ${hold.toId}` : ''}, hold id ${hold.id}`;
  }
  return `${again(outcome.transfer.createdAt)}${whatMoved(outcome.transfer)}, transfer id ${outcome.transfer.id}`;
}

export function verifyLines(report: VerifyReport): string[] {
  const lines = [
    report.ok ? 'ok: every invariant holds' : 'FAILED: the invariants do not hold',
    `accounts            ${report.accounts}`,
    `transfers           ${report.transfers}`,
    `sum of balances     ${report.totalBalance} (all currencies, minor units)`,
    `money in - out      ${report.moneyIn - report.moneyOut} (${report.moneyIn} in, ${report.moneyOut} out)`,
    `balances != journal ${report.mismatchedCount}`,
    `below their floor   ${report.negativeCount}`,
    `malformed transfers ${report.malformedTransfers}`,
    `held                ${report.heldTotal}`,
    `held != its holds   ${report.heldMismatchedCount}`,
    `overheld accounts   ${report.overheldCount}`,
    `malformed holds     ${report.malformedHolds}`,
    `bad reversals       ${report.badReversals}`,
    `foreign currency    ${report.currencyMismatchedLegs} journal legs`,
    `broken chains       ${report.brokenChainCount}`,
    `checked in          ${report.elapsedMs} ms`,
  ];
  for (const c of report.currencies) {
    const balanced = c.totalBalance === c.moneyIn - c.moneyOut ? 'ok' : 'UNBALANCED';
    lines.push(
      `  ${c.currency.padEnd(16)} ${balanced}: ${c.accounts} accounts, Σ ${shown(c.totalBalance, c.currency)} = ${shown(c.moneyIn, c.currency)} in − ${shown(c.moneyOut, c.currency)} out`,
    );
  }
  for (const m of report.mismatched) lines.push(`  ${m.id}: balance ${m.balance}, journal says ${m.journal}`);
  return lines;
}
