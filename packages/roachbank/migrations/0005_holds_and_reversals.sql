-- Holds (money reserved now, posted or voided later) and reversals (issue 24), the same
-- on both engines. The journal stays the record of posted money: a hold writes no
-- journal row, its post writes one ordinary row that names it (hold_id), and a
-- reversal is an ordinary row that names the row it reverses (reversal_of).
--
-- `held` is the sum of the account's holds whose status is still 'pending', expired or
-- not: it lives on the account row because every movement locks that row, so a writer
-- that waited on the lock reads the value its predecessor left (PostgreSQL re-reads a
-- locked row at READ COMMITTED; CockroachDB retries the statement on a newer snapshot).
-- A hold whose expires_at has passed counts for nothing in any check or read
-- (`heldNow`), so expiry needs no background process; the sweep only tidies `held`.
ALTER TABLE roachbank.accounts ADD COLUMN IF NOT EXISTS held INT8 NOT NULL DEFAULT 0 CONSTRAINT accounts_held_check CHECK (held >= 0);
CREATE TABLE IF NOT EXISTS roachbank.holds (
  id            UUID PRIMARY KEY,
  from_id       UUID NOT NULL REFERENCES roachbank.accounts (id),
  to_id         UUID REFERENCES roachbank.accounts (id),
  amount        INT8 NOT NULL CHECK (amount > 0),
  status        TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at    TIMESTAMPTZ,
  settled_at    TIMESTAMPTZ,
  transfer_id   UUID,
  posted_amount INT8 CHECK (posted_amount > 0 AND posted_amount <= amount),
  CONSTRAINT holds_two_accounts_check CHECK (to_id IS NULL OR to_id <> from_id)
);
-- An account's holds newest first, and its pending ones by expiry (checks, reads, the sweep):
-- both led by the account, so no index range takes every new hold.
CREATE INDEX IF NOT EXISTS holds_from_account_idx ON roachbank.holds (from_id, created_at, id);
CREATE INDEX IF NOT EXISTS holds_pending_idx ON roachbank.holds (from_id, expires_at) WHERE status = 'pending';
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS hold_id UUID;
ALTER TABLE roachbank.transfers ADD COLUMN IF NOT EXISTS reversal_of UUID;
CREATE INDEX IF NOT EXISTS transfers_reversal_of_idx ON roachbank.transfers (reversal_of) WHERE reversal_of IS NOT NULL;
-- How much of a journal row has been reversed: one row per reversed movement, updated by
-- each reversal under its lock. The CHECK is the last word on "never more than the
-- original", as accounts' CHECK (balance >= 0) is on overdrafts.
CREATE TABLE IF NOT EXISTS roachbank.reversed_amounts (
  transfer_id UUID PRIMARY KEY,
  original    INT8 NOT NULL,
  reversed    INT8 NOT NULL CHECK (reversed > 0),
  CONSTRAINT reversed_amounts_within_original CHECK (reversed <= original)
);
