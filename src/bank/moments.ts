import { RoachbankError } from '../errors/roachbank-error.js';

// An RFC 3339 time with its offset: what the database reads as TIMESTAMPTZ the same way on
// both engines, to the microsecond (a JS Date keeps milliseconds only, so a time given as
// text goes to the database as it was written).
export const momentPattern = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?([Zz]|[+-]\\d{2}:\\d{2})$';
const rfc3339 = new RegExp(momentPattern);

/** A moment as the bank's reads take it: a valid Date, or RFC 3339 text with an offset; INVALID_ARGUMENT otherwise. */
export function parseMoment(value: unknown, name: string): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RoachbankError('INVALID_ARGUMENT', `${name} is an invalid Date`);
    return value.toISOString();
  }
  if (typeof value === 'string' && rfc3339.test(value) && namesATime(value)) return value;
  throw new RoachbankError(
    'INVALID_ARGUMENT',
    `${name} must be an RFC 3339 time with its offset, such as 2026-12-04T09:30:00Z, got ${JSON.stringify(value)?.slice(0, 60)}`,
  );
}

/**
 * Whether the text's fields name a real time, as both engines read it: a day of its month,
 * a time of day without a 24th hour or a leap second, an offset within ±15:59 (PostgreSQL's
 * bound), a year from 1 to 9999. `Date.parse` alone would roll 2026-02-30 over to March.
 */
function namesATime(text: string): boolean {
  const [year, month, day, hour, minute, second] = [0, 5, 8, 11, 14, 17].map((at) => Number(text.slice(at, at + (at ? 2 : 4))));
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  const days = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    year! >= 1 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= days &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    (offset === null || (Number(offset[2]) <= 15 && Number(offset[3]) <= 59))
  );
}

/** The period [from, to) of a statement; INVALID_ARGUMENT when it ends before it starts. */
export function parsePeriod(from: unknown, to: unknown): { from: string; to: string } {
  const period = { from: parseMoment(from, 'from'), to: parseMoment(to, 'to') };
  if (Date.parse(period.from.replace(' ', 'T')) > Date.parse(period.to.replace(' ', 'T'))) {
    throw new RoachbankError('INVALID_ARGUMENT', `from (${period.from}) is after to (${period.to})`);
  }
  return period;
}
