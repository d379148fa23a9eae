-- Comments anchored to the text, and the commenter role.
--
-- A thread's first comment carries the anchor: the CRDT ids of the first and last characters it
-- was written on (ids survive deletion as tombstones, so an anchor always resolves) and the text
-- quoted then. Replies name their thread (thread_id = the first comment's id); a thread's first
-- comment has thread_id = id. Ids are chosen by the client (a re-sent comment is the same row).
CREATE TABLE comments (
    doc_id       TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    thread_id    TEXT NOT NULL,
    author_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body         TEXT NOT NULL,
    anchor_start TEXT NOT NULL DEFAULT '',
    anchor_end   TEXT NOT NULL DEFAULT '',
    quote        TEXT NOT NULL DEFAULT '',
    mentions     TEXT NOT NULL DEFAULT '[]',
    resolved     INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    edited_at    TEXT,
    PRIMARY KEY (doc_id, id)
);
CREATE INDEX comments_thread ON comments(doc_id, thread_id);

-- The commenter role (reads the text, writes comments, cannot edit): SQLite cannot change a
-- CHECK constraint, so the grants table is rebuilt with the same rows.
CREATE TABLE document_permissions_new (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'commenter', 'viewer')),
    created_at TEXT NOT NULL,
    by_address INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (doc_id, user_id)
);
INSERT INTO document_permissions_new (doc_id, user_id, role, created_at, by_address)
    SELECT doc_id, user_id, role, created_at, by_address FROM document_permissions;
DROP TABLE document_permissions;
ALTER TABLE document_permissions_new RENAME TO document_permissions;
CREATE INDEX document_permissions_user ON document_permissions(user_id);
