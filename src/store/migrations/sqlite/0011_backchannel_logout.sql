-- OpenID Connect Back-Channel Logout 1.0: the logouts still to be delivered to relying
-- parties, and how delivery went. A row is written in the same action that signs the person
-- out (sign-out, lock, password change), so a restart or a crash loses none; any node's
-- worker delivers it.
--
-- The row keeps the facts of the logout (who, which session, where to), not a signed token:
-- the token is signed at each attempt, so it lives two minutes whatever the backoff, carries
-- the key that signs *now* (a rotation in between does not strand it), and no bearer
-- artefact rests in the database.
--
-- `next_attempt_at` doubles as the lease: a worker claims a due row by moving it past the
-- attempt's timeout and writing its `claim`; only that claim may record the outcome, so two
-- nodes never deliver one row at once, and a node that dies mid-attempt leaves a row that is
-- due again when the lease runs out.
CREATE TABLE backchannel_logouts (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    -- The `sub` the client knows (pairwise or public), as its ID tokens said.
    sub             TEXT NOT NULL,
    -- The account's own `sub`, for the audit log.
    account_sub     TEXT NOT NULL,
    sid             TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claim           TEXT,
    last_error      TEXT,
    last_status     INTEGER,
    delivered_at    INTEGER,
    failed_at       INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX backchannel_logouts_due ON backchannel_logouts (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX backchannel_logouts_failed ON backchannel_logouts (failed_at)
    WHERE failed_at IS NOT NULL;
CREATE INDEX backchannel_logouts_delivered ON backchannel_logouts (delivered_at)
    WHERE delivered_at IS NOT NULL;
