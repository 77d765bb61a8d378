ALTER TABLE accounts ADD COLUMN webauthn_user TEXT;
CREATE UNIQUE INDEX accounts_webauthn_user ON accounts (webauthn_user);

CREATE TABLE passkeys (
    cred_id         BYTEA PRIMARY KEY,
    sub             TEXT NOT NULL REFERENCES accounts (sub),
    name            TEXT NOT NULL,
    passkey         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    backup_eligible BIGINT NOT NULL,
    backup_state    BIGINT NOT NULL
);
CREATE INDEX passkeys_sub ON passkeys (sub);
