-- Register import at speed (issue #18): the foreign key from an alias to its person ran a
-- `SELECT … FOR KEY SHARE` for every alias written, locking (and so writing) the person's row
-- again: 12 of the 18 s it took to insert 775 000 CMND aliases of a million-person register.
-- Aliases are written with their person, in the same transaction (the import), or for a
-- person read just before (`add_alias`); persons are never deleted.
ALTER TABLE person_aliases DROP CONSTRAINT IF EXISTS person_aliases_id_number_fkey;
