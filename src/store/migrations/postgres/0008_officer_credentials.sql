-- Officers act through credentials of their own. An admin client may be bound to one officer,
-- and the admin API takes the acting officer from the calling client, never from the request
-- body. An officer's own ID number lets the provider refuse an officer verifying their own
-- account.
ALTER TABLE officers ADD COLUMN id_number TEXT;
ALTER TABLE clients ADD COLUMN officer_id TEXT REFERENCES officers (officer_id);
