CREATE TABLE totp_credentials (
    sub           TEXT PRIMARY KEY REFERENCES accounts (sub),
    secret_sealed BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    last_step     BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    sub        TEXT NOT NULL REFERENCES accounts (sub),
    code_hash  BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (sub, code_hash)
);
