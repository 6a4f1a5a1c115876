// The OpenAPI document's money and limit patterns against the plain rule they
// state: a decimal without sign or leading zeros, from min to max.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxMoney } from '../packages/roachbank/src/bank/money.js';
import { decimalPattern } from '../packages/roachbank-app/src/http/decimal-pattern.js';

// What parseAmount reads: digits only, leading zeros allowed.
const model = (text: string, min: bigint, max: bigint) => /^[0-9]+$/.test(text) && BigInt(text) >= min && BigInt(text) <= max;

test('decimalPattern matches exactly min..max (leading zeros allowed) for every max up to 1,200', () => {
  const texts = [''];
  for (let n = 0; n <= 1300; n++) texts.push(String(n), `0${n}`, `00${n}`, `-${n}`, `${n} `, `+${n}`);
  for (const min of [0n, 1n] as const) {
    for (let max = min; max <= 1200n; max++) {
      const pattern = new RegExp(decimalPattern(min, max));
      for (const text of texts) {
        assert.equal(pattern.test(text), model(text, min, max), `${text} against ${min}..${max}: ${pattern}`);
      }
    }
  }
});

test('decimalPattern matches exactly 1..2^63-1 around every digit of the bound', () => {
  const pattern = new RegExp(decimalPattern(1n, maxMoney));
  const texts = new Set(['0', '00', '1', '01', '9', '10', '999999999999999999', '1000000000000000000']);
  for (let delta = -3n; delta <= 3n; delta++) texts.add(String(maxMoney + delta));
  // Change each digit of the bound by -1 and +1: the neighbours a prefix rule can get wrong.
  const digits = maxMoney.toString();
  for (let i = 0; i < digits.length; i++) {
    for (const step of [-1, 1]) {
      const digit = Number(digits[i]) + step;
      if (digit >= 0 && digit <= 9) texts.add(`${digits.slice(0, i)}${digit}${digits.slice(i + 1)}`);
    }
  }
  texts.add(`${digits}0`);
  texts.add(`0${digits}`);
  texts.add(`0${maxMoney + 1n}`);
  for (const text of texts) assert.equal(pattern.test(text), model(text, 1n, maxMoney), `${text}: ${pattern}`);
});

test('decimalPattern refuses a range with max below min', () => {
  assert.throws(() => decimalPattern(1n, 0n), /max 0 is below min 1/);
});
