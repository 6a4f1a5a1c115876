-- An account's journal rows in chain order (migration 0008), by one index per side: the
-- account, then the row's time, then its number in the account's chain. A row's time is
-- never before its account's previous row (`stampSql` in movement-statements.ts), but two
-- rows can share a time (one batch, or a statement that waited on a lock), and then the
-- number orders them. So an account's history, its statement and its balance at a moment
-- are each one ordered range of these indexes: no sort, no tie broken by id. They replace
-- the (account, created_at, id) indexes of 0003, which served the same look-ups by time:
-- a journal row still writes two account index entries.
-- Built CONCURRENTLY (writers go on), each statement in its own implicit transaction
-- (`migrate`); a build cut half-way leaves an invalid index that IF NOT EXISTS would keep,
-- so it is dropped first. The old indexes go only once the new ones are valid.
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid WHERE pg_class.relname IN ('transfers_from_chain_idx', 'transfers_to_chain_idx') AND pg_class.relnamespace = 'roachbank'::regnamespace AND NOT pg_index.indisvalid) THEN DROP INDEX IF EXISTS roachbank.transfers_from_chain_idx, roachbank.transfers_to_chain_idx; END IF; END $$;
CREATE INDEX CONCURRENTLY IF NOT EXISTS transfers_from_chain_idx ON roachbank.transfers (from_id, created_at, from_sequence) WHERE from_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS transfers_to_chain_idx ON roachbank.transfers (to_id, created_at, to_sequence) WHERE to_id IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS roachbank.transfers_from_account_idx;
DROP INDEX CONCURRENTLY IF EXISTS roachbank.transfers_to_account_idx;
