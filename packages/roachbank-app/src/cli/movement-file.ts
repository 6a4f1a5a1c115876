import { readFile } from 'node:fs/promises';
import { maxTransferManyItems, RoachbankError } from 'roachbank';
import { parseStrictJson } from '../input/strict-json.js';

/** One movement of a file, with the line it came from: its JSON value, or why that line cannot be read. */
export type FileEntry =
  | { readonly line: number; readonly value: unknown }
  | { readonly line: number; readonly error: RoachbankError };

/** A CSV's columns: a movement's fields, and its reference (metadata, an object, is for JSON lines). */
const columns = ['id', 'fromId', 'toId', 'amount', 'reference'];

/**
 * The movements of a file for `roachbank transfer --file` (`-`: standard input):
 *
 * - JSON lines: one object per line, `{"id","fromId","toId","amount"}`, blank lines
 *   skipped; a line that is not JSON, or names a key twice, is that item's own error
 *   (the rule of HTTP bodies, `parseStrictJson`);
 * - CSV with a header row naming its columns among `id,fromId,toId,amount,reference`, each
 *   once (an empty cell is a missing field).
 *
 * A byte-order mark at the start is skipped in both.
 *
 * The first non-blank character decides (`{`: JSON lines). A file that is neither,
 * is empty, cannot be read or holds more than 1,000 movements is INVALID_ARGUMENT as
 * a whole, before anything moves.
 *
 * @example
 * const entries = await readMovementFile('payouts.csv');
 */
export async function readMovementFile(path: string): Promise<FileEntry[]> {
  // A byte-order mark (as spreadsheet exports write) is not part of either format.
  const text = (await readText(path)).replace(/^\uFEFF/, '');
  const name = path === '-' ? 'standard input' : path;
  const start = text.search(/\S/);
  if (start < 0) throw invalid(`${name} holds no movements`);
  const entries = text[start] === '{' ? jsonLines(text) : await csvRows(text, name);
  if (entries.length > maxTransferManyItems) {
    throw invalid(`${name} holds ${entries.length} movements; at most ${maxTransferManyItems} go in one call (split the file)`);
  }
  return entries;
}

async function readText(path: string): Promise<string> {
  try {
    if (path !== '-') return await readFile(path, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    throw invalid(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** One value per non-blank line, read as strictly as an HTTP body (`parseStrictJson`). */
function jsonLines(text: string): FileEntry[] {
  const entries: FileEntry[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() === '') return;
    const line = index + 1;
    try {
      entries.push({ line, value: parseStrictJson(content, `line ${line}`) });
    } catch (error) {
      entries.push({ line, error: error as RoachbankError });
    }
  });
  return entries;
}

async function csvRows(text: string, name: string): Promise<FileEntry[]> {
  const { parse } = await import('csv-parse/sync');
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, { info: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as unknown as typeof rows;
  } catch (error) {
    throw invalid(`${name} is not valid CSV: ${(error as Error).message}`);
  }
  const header = rows.shift()!.record;
  const repeated = header.find((column, i) => header.indexOf(column) !== i);
  if (repeated !== undefined) {
    throw invalid(`${name}: the header names the column ${JSON.stringify(repeated)} more than once`);
  }
  if (
    header.some((column) => !columns.includes(column)) ||
    !header.includes('amount') ||
    !(header.includes('fromId') || header.includes('toId'))
  ) {
    throw invalid(
      `${name} is neither JSON lines (one {"fromId","toId","amount"} object per line) nor CSV with a header row of ${columns.join(',')} (it starts with ${JSON.stringify(header.join(',').slice(0, 60))})`,
    );
  }
  if (rows.length === 0) throw invalid(`${name} holds no movements, only a header row`);
  return rows.map(({ record, info }): FileEntry => {
    if (record.length !== header.length) {
      return { line: info.lines, error: invalid(`line ${info.lines} has ${record.length} cells, the header ${header.length}`) };
    }
    return {
      line: info.lines,
      value: Object.fromEntries(header.map((column, i) => [column, record[i]!]).filter(([, cell]) => cell !== '')),
    };
  });
}

function invalid(message: string): RoachbankError {
  return new RoachbankError('INVALID_ARGUMENT', message);
}
