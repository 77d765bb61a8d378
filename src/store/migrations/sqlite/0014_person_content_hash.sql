-- Register import at speed (issue #18): each record keeps a hash of its register content, so
-- an import recognises an unchanged row by one indexed read and writes nothing for it.
-- NULL for records written before: the next import that carries them hashes them.
ALTER TABLE persons ADD COLUMN content_hash TEXT;
