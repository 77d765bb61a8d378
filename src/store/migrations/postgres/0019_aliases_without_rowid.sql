-- Register import at speed (issue #18): the index of aliases by person that 0015 added made
-- every alias one more random insert; the cleansing report now reads aliases in one scan
-- instead of by person. (SQLite also rebuilds the table without a rowid.)
DROP INDEX IF EXISTS person_aliases_person;
