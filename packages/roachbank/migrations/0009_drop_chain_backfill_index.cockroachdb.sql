-- The back-fill of migration 0008 is done: its index of the accounts still to number goes
-- (an index is named with its table on CockroachDB: table@index).
DROP INDEX IF EXISTS roachbank.accounts@accounts_chain_backfill_idx;
