-- Packed log segments (docstream/storage/packs.py): entries older than a document's latest
-- snapshot move here a thousand at a time, compressed. Pack k holds seqs k*1000+1 to (k+1)*1000;
-- every seq of a document is either in ops_log or in one pack, never both.
CREATE TABLE ops_packs (
    doc_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq_lo  INTEGER NOT NULL,
    seq_hi  INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq_lo)
) WITHOUT ROWID;

-- Who wrote in each pack: list_log_replicas reads it without unpacking, and a replica that
-- authored packed entries stays bound forever, as one with rows in ops_log does.
CREATE TABLE ops_pack_authors (
    doc_id  TEXT NOT NULL,
    seq_lo  INTEGER NOT NULL,
    replica TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq_lo, replica, user_id),
    FOREIGN KEY (doc_id, seq_lo) REFERENCES ops_packs(doc_id, seq_lo) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX ops_pack_authors_by_replica ON ops_pack_authors(replica);
