import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { insufficientFunds } from '../packages/roachbank/src/bank/bank-errors.js';
import { resolvingAmbiguity } from '../packages/roachbank/src/bank/resolve-ambiguity.js';
import { RoachbankError } from '../packages/roachbank/src/errors/roachbank-error.js';
import { AmbiguousCommitError } from '../packages/roachbank/src/txn/ambiguous-commit-error.js';

const lost = new AmbiguousCommitError(new Error('Connection terminated unexpectedly'));
const statementTimeout = Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });

/** An operation that fails with each of `failures` in turn, then returns 'done'. */
function scripted(...failures: unknown[]) {
  let calls = 0;
  const operation = async () => {
    const failure = failures[calls++];
    if (failure !== undefined) throw failure;
    return 'done';
  };
  return { operation, calls: () => calls };
}

describe('resolvingAmbiguity', () => {
  test('an ambiguous commit is resolved by running the idempotent operation again', async () => {
    const seen: unknown[] = [];
    const { operation, calls } = scripted(lost);
    assert.equal(await resolvingAmbiguity(operation, { onAmbiguous: (e) => seen.push(e) }), 'done');
    assert.equal(calls(), 2);
    assert.deepEqual(seen, [lost]);
  });

  test('an error before any ambiguity is the answer, at once', async () => {
    const { operation, calls } = scripted(statementTimeout);
    await assert.rejects(resolvingAmbiguity(operation), statementTimeout);
    assert.equal(calls(), 1);
  });

  test('a resubmission that times out says nothing about the first try: still AMBIGUOUS_COMMIT, never the timeout', async () => {
    const { operation, calls } = scripted(lost, statementTimeout, statementTimeout, statementTimeout);
    await assert.rejects(resolvingAmbiguity(operation, { attempts: 3 }), lost);
    assert.equal(calls(), 3);
  });

  test('a refusal of the resubmission is no answer after an ambiguity: AMBIGUOUS_COMMIT naming the refusal, never the refusal', async () => {
    const refusal = insufficientFunds('a', 0n, 5n);
    const { operation, calls } = scripted(lost, refusal);
    await assert.rejects(resolvingAmbiguity(operation), (error: unknown) => {
      assert.ok(error instanceof RoachbankError);
      assert.equal(error.code, 'AMBIGUOUS_COMMIT');
      assert.match(error.message, /may still commit.*INSUFFICIENT_FUNDS: account a has 0 available, cannot debit 5/);
      assert.equal(error.cause, lost);
      return true;
    });
    assert.equal(calls(), 2);
  });

  test('a refusal before any ambiguity is the answer, at once', async () => {
    const refusal = insufficientFunds('a', 0n, 5n);
    const { operation, calls } = scripted(refusal);
    await assert.rejects(resolvingAmbiguity(operation), refusal);
    assert.equal(calls(), 1);
  });

  test("the journal's own word after an ambiguity (IDEMPOTENCY_CONFLICT) is final", async () => {
    const conflict = new RoachbankError('IDEMPOTENCY_CONFLICT', 'another body');
    const { operation } = scripted(lost, conflict);
    await assert.rejects(resolvingAmbiguity(operation), conflict);
  });
});
