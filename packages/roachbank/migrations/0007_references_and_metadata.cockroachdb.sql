-- References and metadata (issue 25); see the PostgreSQL file for what each column means
-- and why metadata is TEXT (CockroachDB's JSON is JSONB, which reorders keys). On
-- CockroachDB every statement here is an online schema change run as a job: ADD COLUMN
-- of a nullable column without a default, ADD CONSTRAINT … CHECK validated by a
-- background job ("If you add a CHECK constraint to an existing table, CockroachDB will
-- run a background job to validate existing table data", docs: check), and CREATE INDEX
-- backfilled while writes go on (docs: "Online Schema Changes"; partial indexes:
-- https://www.cockroachlabs.com/docs/v24.1/partial-indexes). An index led by the
-- reference is no write hot spot: references are the callers' own values, not a clock.
-- Each constraint is dropped IF EXISTS before it is added, so a run cut half-way runs again.
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS reference TEXT;
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS reference TEXT;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE roachbank.holds ADD COLUMN IF NOT EXISTS reference TEXT;
ALTER TABLE roachbank.holds ADD COLUMN IF NOT EXISTS metadata TEXT;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_reference_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_reference_check CHECK (length(reference) BETWEEN 1 AND 128);
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_metadata_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_metadata_check CHECK (octet_length(metadata) <= 4096);
ALTER TABLE roachbank.transfers DROP CONSTRAINT IF EXISTS transfers_reference_check;
ALTER TABLE roachbank.transfers ADD CONSTRAINT transfers_reference_check CHECK (length(reference) BETWEEN 1 AND 128);
ALTER TABLE roachbank.transfers DROP CONSTRAINT IF EXISTS transfers_metadata_check;
ALTER TABLE roachbank.transfers ADD CONSTRAINT transfers_metadata_check CHECK (octet_length(metadata) <= 4096);
ALTER TABLE roachbank.holds DROP CONSTRAINT IF EXISTS holds_reference_check;
ALTER TABLE roachbank.holds ADD CONSTRAINT holds_reference_check CHECK (length(reference) BETWEEN 1 AND 128);
ALTER TABLE roachbank.holds DROP CONSTRAINT IF EXISTS holds_metadata_check;
ALTER TABLE roachbank.holds ADD CONSTRAINT holds_metadata_check CHECK (octet_length(metadata) <= 4096);
CREATE INDEX IF NOT EXISTS accounts_reference_idx ON roachbank.accounts (reference, created_at, id) WHERE reference IS NOT NULL;
CREATE INDEX IF NOT EXISTS transfers_reference_idx ON roachbank.transfers (reference, created_at, id) WHERE reference IS NOT NULL;
CREATE INDEX IF NOT EXISTS holds_reference_idx ON roachbank.holds (reference, created_at, id) WHERE reference IS NOT NULL;
