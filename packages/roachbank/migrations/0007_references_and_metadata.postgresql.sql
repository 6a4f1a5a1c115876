-- References and metadata (issue 25), online: no table is rewritten or locked against
-- writers for longer than a catalogue change.
-- - `reference` ties an account, a journal row or a hold to what it belongs to outside
--   the bank (an order, an invoice, a payout batch): at most 128 characters, indexed,
--   not unique. `metadata` is a JSON object of at most 4 KiB, kept as the text it was
--   written as: TEXT, not JSONB, because JSONB (CockroachDB's only JSON type) reorders
--   keys and drops repeated ones, and what a caller sent should read back as it was.
-- - A nullable column without a default is a catalogue change; its CHECK is added NOT
--   VALID (no scan under the table lock) and validated (SHARE UPDATE EXCLUSIVE: writes
--   go on).
-- - Each look-up index is partial (rows with a reference only) and built CONCURRENTLY,
--   so writers go on while it is built; each statement runs in its own implicit
--   transaction (`migrate`), as CONCURRENTLY requires. A concurrent build cut half-way
--   leaves an invalid index that IF NOT EXISTS would keep, so it is dropped first.
-- Each constraint is dropped IF EXISTS before it is added, so a run cut half-way runs again.
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS reference TEXT;
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS reference TEXT;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE roachbank.holds ADD COLUMN IF NOT EXISTS reference TEXT;
ALTER TABLE roachbank.holds ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_reference_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_reference_check CHECK (length(reference) BETWEEN 1 AND 128) NOT VALID;
ALTER TABLE roachbank.accounts VALIDATE CONSTRAINT accounts_reference_check;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_metadata_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_metadata_check CHECK (octet_length(metadata) <= 4096) NOT VALID;
ALTER TABLE roachbank.accounts VALIDATE CONSTRAINT accounts_metadata_check;
ALTER TABLE roachbank.transfers DROP CONSTRAINT IF EXISTS transfers_reference_check;
ALTER TABLE roachbank.transfers ADD CONSTRAINT transfers_reference_check CHECK (length(reference) BETWEEN 1 AND 128) NOT VALID;
ALTER TABLE roachbank.transfers VALIDATE CONSTRAINT transfers_reference_check;
ALTER TABLE roachbank.transfers DROP CONSTRAINT IF EXISTS transfers_metadata_check;
ALTER TABLE roachbank.transfers ADD CONSTRAINT transfers_metadata_check CHECK (octet_length(metadata) <= 4096) NOT VALID;
ALTER TABLE roachbank.transfers VALIDATE CONSTRAINT transfers_metadata_check;
ALTER TABLE roachbank.holds DROP CONSTRAINT IF EXISTS holds_reference_check;
ALTER TABLE roachbank.holds ADD CONSTRAINT holds_reference_check CHECK (length(reference) BETWEEN 1 AND 128) NOT VALID;
ALTER TABLE roachbank.holds VALIDATE CONSTRAINT holds_reference_check;
ALTER TABLE roachbank.holds DROP CONSTRAINT IF EXISTS holds_metadata_check;
ALTER TABLE roachbank.holds ADD CONSTRAINT holds_metadata_check CHECK (octet_length(metadata) <= 4096) NOT VALID;
ALTER TABLE roachbank.holds VALIDATE CONSTRAINT holds_metadata_check;
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid WHERE pg_class.relname IN ('accounts_reference_idx', 'transfers_reference_idx', 'holds_reference_idx') AND pg_class.relnamespace = 'roachbank'::regnamespace AND NOT pg_index.indisvalid) THEN DROP INDEX IF EXISTS roachbank.accounts_reference_idx, roachbank.transfers_reference_idx, roachbank.holds_reference_idx; END IF; END $$;
CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_reference_idx ON roachbank.accounts (reference, created_at, id) WHERE reference IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS transfers_reference_idx ON roachbank.transfers (reference, created_at, id) WHERE reference IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS holds_reference_idx ON roachbank.holds (reference, created_at, id) WHERE reference IS NOT NULL;
