-- The register's cleansing report (issue #18). match_key: a 64-bit FNV-1a hash of the folded
-- name (NFC, lowercase, single spaces), birth date and sex, written with every record, so the
-- same person under two ID numbers is found by grouping one small column. NULL for records
-- written before: the report fills them in first.
ALTER TABLE persons ADD COLUMN match_key BIGINT;
-- A person's aliases by person (the primary key starts with kind and value): for "CMND never
-- linked" and for the CMND numbers of the persons a finding names.
CREATE INDEX person_aliases_person ON person_aliases (id_number, kind);
