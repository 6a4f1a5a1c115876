/**
 * A regular expression (for a JSON schema's `pattern`) that matches exactly
 * the decimal numbers from `min` to `max`, written without sign, leading zeros
 * allowed (as the bank's parseAmount reads them). JSON Schema bounds numbers,
 * not strings, and the API carries money as strings (an INT8 does not fit a
 * JSON number): the pattern is how the OpenAPI document states the range the
 * bank accepts, so a request that fits the document is one the bank takes.
 *
 * Steps: leading zeros, then every length shorter than `max`'s, then, for
 * `max`'s own length, each prefix of `max` followed by a smaller digit and any
 * digits, then `max`.
 *
 * @example
 * decimalPattern(1n, 1000n); // '^0*(?:[1-9][0-9]{0,2}|1000)$'
 */
export function decimalPattern(min: 0n | 1n, max: bigint): string {
  if (max < min) throw new RangeError(`decimalPattern: max ${max} is below min ${min}`);
  const digits = max.toString();
  const alternatives: string[] = min === 0n ? ['0'] : [];
  if (digits.length > 1) alternatives.push(digits.length === 2 ? '[1-9]' : `[1-9][0-9]{0,${digits.length - 2}}`);
  for (let i = 0; i < digits.length; i++) {
    const low = i === 0 ? 1 : 0;
    const high = Number(digits[i]) - 1;
    if (high < low) continue;
    const rest = digits.length - 1 - i;
    alternatives.push(
      `${digits.slice(0, i)}${digitRange(low, high)}${rest === 0 ? '' : rest === 1 ? '[0-9]' : `[0-9]{${rest}}`}`,
    );
  }
  if (max > 0n) alternatives.push(digits);
  return `^0*(?:${alternatives.join('|')})$`;
}

const digitRange = (low: number, high: number) => (low === high ? String(low) : `[${low}-${high}]`);
