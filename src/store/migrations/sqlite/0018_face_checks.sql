-- Face matches against the register's portrait (issue #16): the result only — matched or
-- not, the score, the matcher, the time. The image is never stored.
CREATE TABLE face_checks (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    sub     TEXT NOT NULL REFERENCES accounts (sub),
    matched INTEGER NOT NULL,
    score   REAL NOT NULL,
    matcher TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX face_checks_sub_at ON face_checks (sub, at);
