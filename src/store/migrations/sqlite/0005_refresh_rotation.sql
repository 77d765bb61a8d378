-- Refresh rotation is the write every signed-in relying party makes, so its table is shaped
-- for it. Measured on the benchmark machine the disk (its random-write rate) bounded refresh
-- throughput, so fewer pages per rotation is the lever:
--   * WITHOUT ROWID: rows live in the token_hash B-tree itself, no separate key index;
--   * no index on grant_id: nothing looks tokens up by grant (revoking a grant is checked
--     through the grants table at spend time).
-- Together they halve the pages a rotation dirties (about 22 KiB of WAL to 11 KiB).
--
-- Rotation is one statement: spending a token names its successor, and the trigger records
-- the successor inside that same statement, so a family is never half-rotated.
CREATE TABLE refresh_tokens_v5 (
    token_hash           BLOB PRIMARY KEY,
    grant_id             TEXT NOT NULL REFERENCES grants (id),
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    used_at              INTEGER,
    successor            BLOB,
    successor_expires_at INTEGER
) WITHOUT ROWID;
INSERT INTO refresh_tokens_v5 (token_hash, grant_id, created_at, expires_at, used_at)
    SELECT token_hash, grant_id, created_at, expires_at, used_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_v5 RENAME TO refresh_tokens;

CREATE TRIGGER refresh_tokens_rotate AFTER UPDATE OF successor ON refresh_tokens
WHEN NEW.successor IS NOT NULL AND OLD.successor IS NULL
BEGIN
    INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
    VALUES (NEW.successor, NEW.grant_id, NEW.used_at,
            min(NEW.successor_expires_at,
                (SELECT expires_at FROM grants WHERE id = NEW.grant_id)),
            NULL);
END;
