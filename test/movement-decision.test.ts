// The money decision's order of checks, stated as a table: what the journal holds
// comes first, then the source, then the destination, then the funds; and no
// refusal without the journal's word that the id is absent.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { JournalEntry } from '../packages/roachbank/src/bank/bank.js';
import { movement } from '../packages/roachbank/src/bank/movement.js';
import { decideMovement, type JournalWord } from '../packages/roachbank/src/bank/movement-decision.js';

const [a, b] = [randomUUID(), randomUUID()];
const request = movement({ fromId: a, toId: b, amount: 100n });
const row = (body: Partial<JournalEntry> = {}): JournalEntry => ({
  reference: null,
  metadata: null,
  fromSequence: null,
  fromBalanceAfter: null,
  toSequence: null,
  toBalanceAfter: null,
  id: request.id,
  kind: 'transfer',
  fromId: a,
  toId: b,
  amount: 100n,
  currency: 'XXX',
  createdAt: new Date(0),
  holdId: null,
  reversalOf: null,
  ...body,
});
const outcome = (d: ReturnType<typeof decideMovement>) =>
  d.action === 'refuse' ? `refuse ${d.error.code}: ${d.error.message}` : d.action === 'replay' ? 'replay' : d.action;

describe('decideMovement', () => {
  const cases: [string, Parameters<typeof decideMovement>[1], JournalWord, string][] = [
    ['everything in order', { fromAvailable: 100n, toOpen: true }, null, 'apply'],
    ['the same body journaled beats every refusal', { fromAvailable: undefined, toOpen: false }, row(), 'replay'],
    [
      'another body under the id is a conflict, whatever the accounts',
      { fromAvailable: 100n, toOpen: true },
      row({ amount: 99n }),
      `refuse IDEMPOTENCY_CONFLICT: transfer id ${request.id} was already used with another body: amount 99, not 100`,
    ],
    [
      'a kind of its own: a deposit under the id is not this transfer',
      { fromAvailable: 100n, toOpen: true },
      row({ kind: 'deposit', fromId: null }),
      `refuse IDEMPOTENCY_CONFLICT: transfer id ${request.id} was already used with another body: it was a deposit, not a transfer`,
    ],
    [
      'neither open: the source is named first',
      { fromAvailable: undefined, toOpen: false },
      null,
      `refuse ACCOUNT_NOT_FOUND: no open account ${a}`,
    ],
    ['a closed destination', { fromAvailable: 500n, toOpen: false }, null, `refuse ACCOUNT_NOT_FOUND: no open account ${b}`],
    [
      'short by one',
      { fromAvailable: 99n, toOpen: true },
      null,
      `refuse INSUFFICIENT_FUNDS: account ${a} has 99 available, cannot debit 100`,
    ],
    ['a refusal before the journal was read is not given', { fromAvailable: 99n, toOpen: true }, 'unread', 'read the journal'],
    [
      'accepted before the journal was read: the insert keeps the id unique',
      { fromAvailable: 100n, toOpen: true },
      'unread',
      'apply',
    ],
  ];
  for (const [name, locked, journaled, expected] of cases) {
    test(name, () => assert.equal(outcome(decideMovement(request, locked, { journaled })), expected));
  }

  test('a deposit has no source to check, a withdrawal no destination', () => {
    const deposit = movement({ toId: b, amount: 5n });
    const withdrawal = movement({ fromId: a, amount: 5n });
    assert.equal(decideMovement(deposit, { fromAvailable: undefined, toOpen: true }, { journaled: null }).action, 'apply');
    assert.equal(decideMovement(withdrawal, { fromAvailable: 5n, toOpen: false }, { journaled: null }).action, 'apply');
    assert.deepEqual([deposit.kind, withdrawal.kind, request.kind], ['deposit', 'withdrawal', 'transfer']);
  });
});
