CREATE TABLE persons (
    id_number   TEXT PRIMARY KEY,
    full_name   TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    sex         TEXT NOT NULL,
    nationality TEXT NOT NULL,
    phone       TEXT,
    email       TEXT,
    residence   TEXT,
    created_at  INTEGER NOT NULL
);

CREATE TABLE accounts (
    sub           TEXT PRIMARY KEY,
    id_number     TEXT NOT NULL UNIQUE REFERENCES persons (id_number),
    password_hash TEXT NOT NULL,
    level         INTEGER NOT NULL,
    state         TEXT NOT NULL,
    lock_reason   TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id                 TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    kind                      TEXT NOT NULL,
    secret_hash               BLOB,
    auth_method               TEXT NOT NULL,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types               TEXT NOT NULL,
    scopes                    TEXT NOT NULL,
    jwks                      TEXT,
    jwks_uri                  TEXT,
    id_token_alg              TEXT NOT NULL,
    min_account_level         INTEGER NOT NULL,
    min_acr                   TEXT,
    created_at                INTEGER NOT NULL
);
CREATE INDEX clients_name ON clients (name);

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    public_jwk     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    activate_at    INTEGER NOT NULL,
    retire_at      INTEGER,
    remove_at      INTEGER
);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    sub        TEXT,
    scope      TEXT NOT NULL,
    auth_time  INTEGER,
    acr        TEXT,
    amr        TEXT NOT NULL,
    sid        TEXT,
    claims     TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX grants_sub ON grants (sub);

CREATE TABLE refresh_tokens (
    token_hash BLOB PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES grants (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE consents (
    sub        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (sub, client_id)
);
