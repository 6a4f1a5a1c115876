import { RoachbankError } from '../errors/roachbank-error.js';

// An RFC 3339 time with its offset: what the database reads as TIMESTAMPTZ the same way on
// both engines, to the microsecond (a JS Date keeps milliseconds only, so a time given as
// text goes to the database as it was written).
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$/;

/** A moment as the bank's reads take it: a valid Date, or RFC 3339 text with an offset; INVALID_ARGUMENT otherwise. */
export function parseMoment(value: unknown, name: string): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RoachbankError('INVALID_ARGUMENT', `${name} is an invalid Date`);
    return value.toISOString();
  }
  if (typeof value === 'string' && rfc3339.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')))) return value;
  throw new RoachbankError(
    'INVALID_ARGUMENT',
    `${name} must be an RFC 3339 time with its offset, such as 2026-12-04T09:30:00Z, got ${JSON.stringify(value)?.slice(0, 60)}`,
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
