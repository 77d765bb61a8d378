-- Consent per purpose and per claim (issue #15). The standing consent keeps the claims the
-- person let through (`claims`; NULL for consents given before this, which covered every
-- claim of their scopes), every claim they were asked about (`asked`: an optional claim left
-- unticked is not asked about again for the same purpose), the purpose and text version, and
-- the receipt it rests on.
ALTER TABLE consents ADD COLUMN claims TEXT;
ALTER TABLE consents ADD COLUMN asked TEXT NOT NULL DEFAULT '[]';
ALTER TABLE consents ADD COLUMN purpose TEXT;
ALTER TABLE consents ADD COLUMN receipt_id TEXT;
-- A receipt per consent given: what the page showed (party, purpose text and version, each
-- claim with the value as shown), its SHA-256, what was let through, and when it was withdrawn.
CREATE TABLE consent_receipts (
    id           TEXT PRIMARY KEY,
    sub          TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    shown        TEXT NOT NULL,
    shown_hash   TEXT NOT NULL,
    granted      TEXT NOT NULL,
    given_at     INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE INDEX consent_receipts_by_sub ON consent_receipts (sub, given_at);
-- The consent a grant's disclosures rest on: its receipt and the claims it let through.
-- NULL for grants without a person or from before per-claim consent.
ALTER TABLE grants ADD COLUMN consented TEXT;
