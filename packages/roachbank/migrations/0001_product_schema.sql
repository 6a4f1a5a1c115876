-- The product schema (DESIGN §3). Outside audits read these names: keep them.
CREATE SCHEMA IF NOT EXISTS roachbank;

CREATE TABLE IF NOT EXISTS roachbank.accounts (
  id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  balance    INT8 NOT NULL CHECK (balance >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  closed_at  TIMESTAMPTZ
);

-- The journal, append-only; id is chosen by the client and is the idempotency key.
-- from_id NULL = money entering (deposit, opening balance); to_id NULL = money leaving.
CREATE TABLE IF NOT EXISTS roachbank.transfers (
  id         UUID PRIMARY KEY,
  from_id    UUID REFERENCES roachbank.accounts (id),
  to_id      UUID REFERENCES roachbank.accounts (id),
  amount     INT8 NOT NULL CHECK (amount > 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
