import assert from 'node:assert/strict';
import { type ErrorCode, RoachbankError } from '../../packages/roachbank/src/errors/roachbank-error.js';

/** Asserts a RoachbankError with this code (and, if given, a message that matches). */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof RoachbankError, `expected ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}
