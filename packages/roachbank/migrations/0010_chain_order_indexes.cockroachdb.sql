-- An account's journal rows in chain order (migration 0008), by one index per side: the
-- account, then the row's time, then its number in the account's chain (see the PostgreSQL
-- file for why). They replace the (account, created_at, id) indexes of 0003. Each statement
-- is a schema change job that writers do not wait on (docs: online-schema-changes); the
-- old indexes go only after the new ones are public (an index is named with its table on
-- CockroachDB: table@index).
CREATE INDEX IF NOT EXISTS transfers_from_chain_idx ON roachbank.transfers (from_id, created_at, from_sequence) WHERE from_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS transfers_to_chain_idx ON roachbank.transfers (to_id, created_at, to_sequence) WHERE to_id IS NOT NULL;
DROP INDEX IF EXISTS roachbank.transfers@transfers_from_account_idx;
DROP INDEX IF EXISTS roachbank.transfers@transfers_to_account_idx;
