-- Currencies and credit limits (issue 25), online: no statement rewrites a table or
-- blocks writers for longer than a catalogue change.
-- - An account's currency never changes; one that names none is `XXX` (ISO 4217's "no
--   currency", no minor unit), so a book from before reads as it did. A constant
--   DEFAULT makes ADD COLUMN a catalogue change (PostgreSQL 11+: existing rows read the
--   default without being rewritten).
-- - The journal carries each row's currency, so verify sums money per currency in its one
--   pass. Every existing account is `XXX`, so every existing row is; the DEFAULT is dropped
--   once they have it, so a writer that does not say the currency fails instead of
--   writing a wrong one (rows added before read the value they were given).
-- - A credit limit lets the balance go down to −credit_limit. The CHECK that keeps
--   balances ≥ 0 becomes balance ≥ −credit_limit: the new one is added NOT VALID (no scan
--   under the table lock) and validated (SHARE UPDATE EXCLUSIVE: writes go on) before the
--   old one goes, so some CHECK holds at every moment. With credit_limit 0 it is the old rule.
-- Each constraint is dropped IF EXISTS before it is added, so a run cut half-way runs again.
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS currency TEXT NOT NULL DEFAULT 'XXX';
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS credit_limit INT8 NOT NULL DEFAULT 0;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_currency_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_currency_check CHECK (currency ~ '^[A-Z][A-Z0-9_]{2,15}$') NOT VALID;
ALTER TABLE roachbank.accounts VALIDATE CONSTRAINT accounts_currency_check;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_credit_limit_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_credit_limit_check CHECK (credit_limit >= 0) NOT VALID;
ALTER TABLE roachbank.accounts VALIDATE CONSTRAINT accounts_credit_limit_check;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_balance_floor_check;
ALTER TABLE roachbank.accounts ADD CONSTRAINT accounts_balance_floor_check CHECK (balance >= -credit_limit) NOT VALID;
ALTER TABLE roachbank.accounts VALIDATE CONSTRAINT accounts_balance_floor_check;
ALTER TABLE roachbank.accounts DROP CONSTRAINT IF EXISTS accounts_balance_check;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS currency TEXT NOT NULL DEFAULT 'XXX';
ALTER TABLE roachbank.transfers ALTER COLUMN currency DROP DEFAULT;
