ALTER TABLE persons ADD COLUMN birth_place TEXT;
ALTER TABLE persons ADD COLUMN household_id TEXT;
ALTER TABLE persons ADD COLUMN household_relation TEXT;
ALTER TABLE persons ADD COLUMN card_expires_on TEXT;
ALTER TABLE persons ADD COLUMN deceased_on TEXT;
ALTER TABLE persons ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE person_aliases (
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    id_number TEXT NOT NULL REFERENCES persons (id_number),
    PRIMARY KEY (kind, value, id_number)
);

ALTER TABLE accounts ADD COLUMN lock_note TEXT;
ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE officers (
    officer_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    roles      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE level2_verifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    id_number       TEXT NOT NULL,
    officer_id      TEXT NOT NULL,
    evidence_ref    TEXT NOT NULL,
    chip_authentic  INTEGER NOT NULL,
    biometric_match INTEGER NOT NULL,
    verified_at     INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT,
    client_id TEXT,
    detail    TEXT NOT NULL,
    ip        TEXT,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);
CREATE INDEX audit_log_at ON audit_log (at);
