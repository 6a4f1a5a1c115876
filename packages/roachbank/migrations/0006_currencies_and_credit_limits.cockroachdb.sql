-- Currencies and credit limits (issue 25); see the PostgreSQL file for what each column
-- means. On CockroachDB every statement here is an online schema change run as a job:
-- ADD COLUMN backfills in the background while writes go on, and ADD CONSTRAINT … CHECK
-- validates existing rows in a background job (docs: "Online Schema Changes"; CHECK
-- constraint: "If you add a CHECK constraint to an existing table, CockroachDB will run a
-- background job to validate existing table data"). The unnamed CHECK of migration 0001 is
-- named `check_balance` there (CockroachDB names an unnamed column CHECK check_<column>).
-- Each constraint is dropped IF EXISTS before it is added, so a run cut half-way runs again.
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS currency TEXT NOT NULL DEFAULT 'XXX';
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS credit_limit INT8 NOT NULL DEFAULT 0;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_currency_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_currency_check CHECK (currency ~ '^[A-Z][A-Z0-9_]{2,15}$');
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_credit_limit_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_credit_limit_check CHECK (credit_limit >= 0);
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_balance_floor_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_balance_floor_check CHECK (balance >= -credit_limit);
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS check_balance;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS currency TEXT NOT NULL DEFAULT 'XXX';
ALTER TABLE roachbank.transfers ALTER COLUMN currency DROP DEFAULT;
