-- OpenID Connect for Identity Assurance (issue #15): a Level-2 check is described by the
-- unit that performed it (e.g. "Công an phường Hàng Bài"), never by the officer's personal
-- data. Officers carry their unit; each verification keeps the unit at the time it was made.
ALTER TABLE officers ADD COLUMN unit TEXT;
ALTER TABLE level2_verifications ADD COLUMN unit TEXT;
