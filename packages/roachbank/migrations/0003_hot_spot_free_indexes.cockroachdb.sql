-- The journal's account indexes without the NULL side, as on PostgreSQL: a deposit
-- (from_id NULL) or a withdrawal (to_id NULL) is no entry in them, so no index range
-- takes every such write at the end of one NULL prefix.
-- The accounts' time-ordered listing index is hash-sharded: led by created_at alone,
-- every new account would be written to the last range of the index (a write hot spot);
-- USING HASH spreads the keys over buckets, and an ordered, limited scan of it is
-- planned as one limited scan per bucket, merged (docs: "Hash-sharded Indexes").
-- An index is named with its table (table@index), CockroachDB's unambiguous form.
-- The new ones are built before the old ones go, so reads always have an index.
CREATE INDEX IF NOT EXISTS transfers_from_account_idx ON roachbank.transfers (from_id, created_at, id) WHERE from_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS transfers_to_account_idx ON roachbank.transfers (to_id, created_at, id) WHERE to_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS accounts_created_sharded_idx ON roachbank.accounts (created_at, id) USING HASH;
DROP INDEX IF EXISTS roachbank.transfers@transfers_from_idx;
DROP INDEX IF EXISTS roachbank.transfers@transfers_to_idx;
DROP INDEX IF EXISTS roachbank.accounts@accounts_created_idx;
