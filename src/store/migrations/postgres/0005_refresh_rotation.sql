-- Rotation in one statement: spending a refresh token names its successor, and this trigger
-- records the successor inside that same statement. One round trip, and a family is never
-- half-rotated (spent without a successor, or the reverse).
ALTER TABLE refresh_tokens ADD COLUMN successor BYTEA, ADD COLUMN successor_expires_at BIGINT;
-- Nothing looks tokens up by grant (a revoked grant is checked at spend time): one index
-- fewer to write on every rotation.
DROP INDEX refresh_tokens_grant;

CREATE FUNCTION refresh_tokens_rotate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
    VALUES (NEW.successor, NEW.grant_id, NEW.used_at,
            LEAST(NEW.successor_expires_at,
                  (SELECT expires_at FROM grants WHERE id = NEW.grant_id)),
            NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER refresh_tokens_rotate AFTER UPDATE OF successor ON refresh_tokens
FOR EACH ROW WHEN (NEW.successor IS NOT NULL AND OLD.successor IS NULL)
EXECUTE FUNCTION refresh_tokens_rotate();
