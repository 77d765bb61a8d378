CREATE TABLE persons (
    id_number   TEXT PRIMARY KEY,
    full_name   TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    sex         TEXT NOT NULL,
    nationality TEXT NOT NULL,
    phone       TEXT,
    email       TEXT,
    residence   TEXT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE accounts (
    sub           TEXT PRIMARY KEY,
    id_number     TEXT NOT NULL UNIQUE REFERENCES persons (id_number),
    password_hash TEXT NOT NULL,
    level         BIGINT NOT NULL,
    state         TEXT NOT NULL,
    lock_reason   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id                 TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    kind                      TEXT NOT NULL,
    secret_hash               BYTEA,
    auth_method               TEXT NOT NULL,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types               TEXT NOT NULL,
    scopes                    TEXT NOT NULL,
    jwks                      TEXT,
    jwks_uri                  TEXT,
    id_token_alg              TEXT NOT NULL,
    min_account_level         BIGINT NOT NULL,
    min_acr                   TEXT,
    created_at                BIGINT NOT NULL
);
CREATE INDEX clients_name ON clients (name);

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL,
    private_sealed BYTEA NOT NULL,
    public_jwk     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    activate_at    BIGINT NOT NULL,
    retire_at      BIGINT,
    remove_at      BIGINT
);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    sub        TEXT,
    scope      TEXT NOT NULL,
    auth_time  BIGINT,
    acr        TEXT,
    amr        TEXT NOT NULL,
    sid        TEXT,
    claims     TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX grants_sub ON grants (sub);

CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES grants (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE consents (
    sub        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (sub, client_id)
);
