-- Every journal row names its kind (movementKinds in src/bank/movement.ts) instead of
-- leaving it to be inferred from which side is NULL: a hold's post or a reversal will be
-- rows of kinds of their own. Rows written before this migration get the kind their
-- sides imply, in batches of 10,000 (each its own transaction), found through a partial
-- index of the rows still to do, so each batch reads only those.
-- Writers of an earlier roachbank do not set kind: once the column is NOT NULL their
-- inserts fail, so stop them before this version is applied.
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS kind TEXT CONSTRAINT transfers_kind_check CHECK (kind IN ('deposit', 'withdrawal', 'transfer'));
CREATE INDEX IF NOT EXISTS transfers_kind_backfill_idx ON roachbank.transfers (id) WHERE kind IS NULL;
-- repeat until no row changes
UPDATE roachbank.transfers
SET kind = CASE WHEN from_id IS NULL THEN 'deposit' WHEN to_id IS NULL THEN 'withdrawal' ELSE 'transfer' END
WHERE id IN (SELECT id FROM roachbank.transfers WHERE kind IS NULL ORDER BY id LIMIT 10000);
ALTER TABLE roachbank.transfers ALTER COLUMN kind SET NOT NULL;
DROP INDEX IF EXISTS roachbank.transfers@transfers_kind_backfill_idx;
