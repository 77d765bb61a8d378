-- Health-insurance (BHYT) card facts per person, keyed by the personal ID number (issue #17).
-- The legacy 15-character card code stays an alias (unique: one card, one holder). Never any
-- medical data: validity, the registered primary-care facility, the benefit level, the date
-- five years of continuous participation were reached, and the card's status.
CREATE TABLE insurance_cards (
    id_number TEXT PRIMARY KEY,
    card_code TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    facility_code TEXT NOT NULL,
    facility_name TEXT NOT NULL,
    benefit_level BIGINT NOT NULL,
    five_years_since TEXT,
    status TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Each eligibility look-up is an audit entry (its subject the patient's ID number, which
-- audit_log_subject serves); a hospital's look-ups are listed by client and time. Partial, so
-- no other audit append pays for this index.
CREATE INDEX audit_log_insurance_lookups ON audit_log (client_id, at)
    WHERE action = 'insurance_lookup';
