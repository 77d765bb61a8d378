-- The audit chain kept linear by position, not by a second index (issues #16, #17). Each entry
-- now takes the position after the head its writer read — `seq` is written, not drawn — so two
-- writers that read the same head both claim the same `seq` and the primary key refuses the
-- second: no entry can have two successors, as with the unique index on `prev_hash` that 0007
-- added. That index put every append at a random place in a B-tree of random hashes (a page
-- written per entry; 27 µs of the single writer's time per entry on SQLite), where the
-- primary key only ever grows at its end.
-- Upgrading: nodes running a version from before this migration append without a position
-- and relied on the dropped index; stop them all before the first node of this version starts.
DROP INDEX IF EXISTS audit_log_chain;
