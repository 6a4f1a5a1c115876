import { RoachbankError } from '../errors/roachbank-error.js';

// An RFC 3339 time with its offset: what the database reads as TIMESTAMPTZ the same way on
// both engines, to the microsecond (a JS Date keeps milliseconds only, so a time given as
// text goes to the database as it was written). The pattern bounds each field (a year from
// 1, an offset within ±15:59, PostgreSQL's bound); the API's schema is the same pattern, and
// only a day past its month's end (2026-02-30) is left to `namesATime`.
export const momentPattern =
  '^(000[1-9]|00[1-9]\\d|0[1-9]\\d{2}|[1-9]\\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])[T ]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-](0\\d|1[0-5]):[0-5]\\d)$';
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

/** Whether the day is one of its month's (the pattern has bounded every field): `Date.parse` would roll 2026-02-30 over to March. */
function namesATime(text: string): boolean {
  const [year, month, day] = [text.slice(0, 4), text.slice(5, 7), text.slice(8, 10)].map(Number) as [number, number, number];
  // Years 1 to 99 read as 1901 to 1999 here, which have the same leap years.
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The period [from, to) of a statement; INVALID_ARGUMENT when it ends before it starts. */
export function parsePeriod(from: unknown, to: unknown): { from: string; to: string } {
  const period = { from: parseMoment(from, 'from'), to: parseMoment(to, 'to') };
  if (Date.parse(period.from.replace(' ', 'T')) > Date.parse(period.to.replace(' ', 'T'))) {
    throw new RoachbankError('INVALID_ARGUMENT', `from (${period.from}) is after to (${period.to})`);
  }
  return period;
}
