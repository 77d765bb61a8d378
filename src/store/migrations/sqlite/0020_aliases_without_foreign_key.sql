-- Register import at speed (issue #18): the foreign key from an alias to its person made every
-- alias written one more random read of the persons' key index (2 of 8.5 s for 775 000 CMND
-- aliases). Aliases are written with their person, in the same transaction (the import), or
-- for a person read just before (`add_alias`); persons are never deleted. SQLite cannot drop
-- a constraint: the table is rebuilt as 0019 left it, without the reference.
CREATE TABLE person_aliases_next (
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    id_number TEXT NOT NULL,
    PRIMARY KEY (kind, value, id_number)
) WITHOUT ROWID;
INSERT INTO person_aliases_next (kind, value, id_number)
    SELECT kind, value, id_number FROM person_aliases;
DROP TABLE person_aliases;
ALTER TABLE person_aliases_next RENAME TO person_aliases;
