-- A person's latest passed in-person check is read for every KYC assertion and every token or
-- UserInfo answer with `verified_claims`; without an index that read scanned every check ever
-- recorded (one per Level-2 account, millions in a country). Building it holds new in-person
-- checks back until it is done: seconds for millions of rows.
CREATE INDEX level2_verifications_person ON level2_verifications (id_number, verified_at);
