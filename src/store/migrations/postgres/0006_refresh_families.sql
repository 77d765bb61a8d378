-- A grant is one refresh-token family, and the family is one row: the grant carries the
-- generation of its live token, and each use moves it one on. The token itself is
-- `{grant}.{generation}.{tag}` with an HMAC tag (oidc/refresh_token.rs), so the database holds
-- no token material, a replayed older generation is still recognised (its family revoked),
-- and storage no longer grows with every rotation: before this, each use added a row (through
-- a PL/pgSQL trigger, a fifth of the database's CPU per rotation) that nothing ever removed.
-- A rotation is now one update of columns no index covers, so PostgreSQL can keep it on the
-- same page (a HOT update); the fill factor leaves room there.
--
-- Refresh tokens issued before this migration are not carried over (their plaintext was never
-- stored): clients holding one get invalid_grant and sign the citizen in again.
DROP TABLE refresh_tokens;
DROP FUNCTION refresh_tokens_rotate();
ALTER TABLE grants
    ADD COLUMN refresh_generation BIGINT,
    ADD COLUMN refresh_issued_at BIGINT,
    -- Random per rotation: tells the batched rotation which of its jobs moved a family.
    ADD COLUMN refresh_nonce BIGINT,
    SET (fillfactor = 85);
