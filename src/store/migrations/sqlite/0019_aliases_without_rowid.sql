-- Register import at speed (issue #18): the aliases table without a rowid, and without the
-- index by person that 0015 added. Its primary key already identifies a row; with the rowid
-- and that index every alias was written to three B-trees, at random places, and at a million
-- aliases those inserts were the largest part of a first import (10 of 48 s). The cleansing
-- report reads aliases in one scan instead of by person.
CREATE TABLE person_aliases_next (
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    id_number TEXT NOT NULL REFERENCES persons (id_number),
    PRIMARY KEY (kind, value, id_number)
) WITHOUT ROWID;
INSERT INTO person_aliases_next (kind, value, id_number)
    SELECT kind, value, id_number FROM person_aliases;
DROP TABLE person_aliases;
ALTER TABLE person_aliases_next RENAME TO person_aliases;
