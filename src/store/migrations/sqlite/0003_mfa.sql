CREATE TABLE totp_credentials (
    sub           TEXT PRIMARY KEY REFERENCES accounts (sub),
    secret_sealed BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    last_step     INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    sub        TEXT NOT NULL REFERENCES accounts (sub),
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (sub, code_hash)
);
