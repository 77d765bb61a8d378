-- Relying-party policy (issue #15). A client's narrowing of its kind's policy, its subject
-- type and sector, and later its purposes and logout endpoint, are one JSON document: they
-- are read together with the client and never queried apart. Clients registered before
-- this keep the public `sub` they have been receiving; new ones default to pairwise.
ALTER TABLE clients ADD COLUMN settings TEXT NOT NULL DEFAULT '{"subject_type":"public"}';
ALTER TABLE clients ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
-- The `sub` the client received for a grant (pairwise or public), so refresh, userinfo,
-- introspection and back-channel logout say the same as the ID token did. Older grants were
-- public: NULL means the account's own `sub`.
ALTER TABLE grants ADD COLUMN rp_sub TEXT;
