-- FAPI 2.0 (docs/banks.md). A grant's extensions: the DPoP key its tokens are bound to
-- (RFC 9449 `cnf.jkt`) and the rich authorization details (RFC 9396) approved with it, as
-- one JSON document — read with the grant, never queried on their own.
ALTER TABLE grants ADD COLUMN extensions TEXT;

-- Bank transfers a person approved (RFC 9396 `vn_bank_transfer`): the day's total per person
-- and bank decides whether the next one needs the biometric step (SBV Decision 2345), and a
-- transfer's authorization is spent once (`used_at`). `day` is the calendar day in
-- Vietnam (UTC+7) as YYYYMMDD.
CREATE TABLE transfer_approvals (
    id          TEXT PRIMARY KEY,
    sub         TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    day         BIGINT NOT NULL,
    amount      BIGINT NOT NULL,
    grant_id    TEXT,
    approved_at BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX transfer_approvals_day ON transfer_approvals (sub, client_id, day);
