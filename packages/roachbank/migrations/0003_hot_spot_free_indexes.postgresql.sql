-- The journal's account indexes without the NULL side: a deposit (from_id NULL) or a
-- withdrawal (to_id NULL) is no entry in them, so no index grows at the end of one NULL
-- prefix. `from_id = $1` implies `from_id IS NOT NULL`, so history's reads still use them.
-- The new ones are built before the old ones go, so reads always have an index.
CREATE INDEX IF NOT EXISTS transfers_from_account_idx ON roachbank.transfers (from_id, created_at, id) WHERE from_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS transfers_to_account_idx ON roachbank.transfers (to_id, created_at, id) WHERE to_id IS NOT NULL;
DROP INDEX IF EXISTS roachbank.transfers_from_idx;
DROP INDEX IF EXISTS roachbank.transfers_to_idx;
