-- Listing accounts oldest first, and an account's history newest first, by (created_at, id) keyset.
CREATE INDEX IF NOT EXISTS accounts_created_idx ON roachbank.accounts (created_at, id);
CREATE INDEX IF NOT EXISTS transfers_from_idx ON roachbank.transfers (from_id, created_at, id);
CREATE INDEX IF NOT EXISTS transfers_to_idx ON roachbank.transfers (to_id, created_at, id);
