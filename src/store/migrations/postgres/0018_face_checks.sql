-- Face matches against the register's portrait (issue #16): the result only — matched or
-- not, the score, the matcher, the time. The image is never stored.
CREATE TABLE face_checks (
    id      BIGSERIAL PRIMARY KEY,
    sub     TEXT NOT NULL REFERENCES accounts (sub),
    matched BOOLEAN NOT NULL,
    score   DOUBLE PRECISION NOT NULL,
    matcher TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX face_checks_sub_at ON face_checks (sub, at);
