-- A grant is one refresh-token family, and the family is one row: the grant carries the
-- generation of its live token, and each use moves it one on. The token itself is
-- `{grant}.{generation}.{tag}` with an HMAC tag (oidc/refresh_token.rs), so the database holds
-- no token material, a replayed older generation is still recognised (its family revoked),
-- and storage no longer grows with every rotation: before this, each use added a row that
-- nothing ever removed. A rotation is now one in-place update of the grant.
--
-- Refresh tokens issued before this migration are not carried over (their plaintext was never
-- stored): clients holding one get invalid_grant and sign the citizen in again.
DROP TRIGGER refresh_tokens_rotate;
DROP TABLE refresh_tokens;
ALTER TABLE grants ADD COLUMN refresh_generation INTEGER;
ALTER TABLE grants ADD COLUMN refresh_issued_at INTEGER;
-- Random per rotation: tells the batched rotation which of its jobs moved a family.
ALTER TABLE grants ADD COLUMN refresh_nonce INTEGER;
