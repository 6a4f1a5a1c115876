import { stringify } from 'csv-stringify/sync';
import type { Bank, ChainBalance, StatementLine } from './bank.js';

/** The columns of a statement as CSV, one journal row per line between its opening and closing rows. */
export const statementCsvColumns = [
  'sequence',
  'created_at',
  'kind',
  'transfer_id',
  'counterparty_id',
  'reference',
  'change',
  'balance_after',
] as const;

/** How many lines one read of the statement takes while its CSV is written. */
const linesPerRead = 1000;

/**
 * A whole period's statement as CSV text, chunk by chunk (a page of lines at a time, so a
 * period of any length is written in bounded memory): a header, an `opening` row (the
 * balance before the period), the lines, a `closing` row. Amounts are whole minor units;
 * a reference that a spreadsheet would run as a formula is written with a leading `'`.
 *
 * @example
 * for await (const chunk of statementCsv(bank, id, { from, to })) process.stdout.write(chunk);
 */
export async function* statementCsv(
  bank: Bank,
  accountId: string,
  period: { readonly from: Date | string; readonly to: Date | string },
): AsyncGenerator<string> {
  let closing: ChainBalance | undefined;
  let cursor: string | undefined;
  do {
    const statement = await bank.statement(accountId, {
      ...period,
      page: { limit: linesPerRead, ...(cursor ? { cursor } : {}) },
    });
    if (closing === undefined) {
      yield csv([marker('opening', statement.opening)], true);
      closing = statement.closing;
    }
    // Each read is its own snapshot: a period that ends later than now can gain rows between
    // reads, and the statement is the one its first read saw, up to that closing.
    const lines = statement.lines.items.filter((line) => line.sequence <= closing!.sequence);
    if (lines.length > 0) yield csv(lines.map(lineRecord), false);
    cursor = lines.length === statement.lines.items.length ? (statement.lines.next ?? undefined) : undefined;
  } while (cursor);
  yield csv([marker('closing', closing!)], false);
}

const csv = (records: unknown[][], header: boolean) =>
  stringify(records, { header, columns: [...statementCsvColumns], escape_formulas: true, cast: { bigint: String } });

const marker = (kind: 'opening' | 'closing', balance: ChainBalance) => [
  balance.sequence,
  '',
  kind,
  '',
  '',
  '',
  '',
  balance.balance,
];

const lineRecord = (line: StatementLine) => [
  line.sequence,
  line.createdAt.toISOString(),
  line.kind,
  line.transferId,
  line.counterpartyId ?? '',
  line.reference ?? '',
  line.change,
  line.balanceAfter,
];
