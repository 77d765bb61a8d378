-- The audit chain is linear: no two entries may follow the same entry. With this an append is
-- one INSERT naming the hash it follows, and a writer whose idea of the chain's head is out of
-- date (another node, or the CLI beside a running server, appended since) fails here and reads
-- the head again; before, every append locked the chain for a read of the head and an insert.
-- A database whose chain already forks must be repaired first: `eidp admin audit export`
-- checks the chain and names the first entry that breaks it.
CREATE UNIQUE INDEX audit_log_chain ON audit_log (prev_hash);
