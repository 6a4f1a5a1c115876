// On a session that is not at READ COMMITTED by default, a movement statement goes
// out as one literal `BEGIN ISOLATION LEVEL READ COMMITTED; …; COMMIT` batch, its
// parameters written in. Every parameter must land where its number says: `$10` is
// the tenth value, not the first followed by a 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runMovementStatement } from '../packages/roachbank/src/bank/run-movement-statement.js';
import { createPool } from '../packages/roachbank/src/db/create-pool.js';
import { statementIsolation } from '../packages/roachbank/src/db/statement-isolation.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

describe('the literal BEGIN … COMMIT fallback', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('literal_fallback');
  });
  after(() => db.drop());

  test('ten and more parameters, each in its own place', async () => {
    // The test server's sessions default to SERIALIZABLE, so this pool takes the fallback.
    const pool = createPool(db.url, { max: 1 });
    try {
      assert.equal(await statementIsolation(pool), 'serializable');
      const values = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 100n, 1000n, 'a', ['b', null]] as const;
      const text = `SELECT ${values
        .slice(0, 11)
        .map((_, i) => `$${i + 1}::INT8`)
        .join(' + ')} AS total, $12::TEXT AS word, $13::TEXT[] AS words, current_setting('transaction_isolation') AS isolation`;
      const [row] = await runMovementStatement<{ total: string; word: string; words: (string | null)[]; isolation: string }>(
        pool,
        { name: 'literal_fallback_probe', text },
        values,
        {},
      );
      assert.deepEqual(row, { total: '1145', word: 'a', words: ['b', null], isolation: 'read committed' });
    } finally {
      await pool.end();
    }
  });
});
