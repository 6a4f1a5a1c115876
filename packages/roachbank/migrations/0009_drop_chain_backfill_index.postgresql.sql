-- The back-fill of migration 0008 is done: its index of the accounts still to number goes.
DROP INDEX IF EXISTS roachbank.accounts_chain_backfill_idx;
