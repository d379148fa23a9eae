-- Comments anchored to the text, and the commenter role.
--
-- A thread's first comment carries the anchor: the CRDT ids of the first and last characters it
-- was written on (ids survive deletion as tombstones, so an anchor always resolves) and the text
-- quoted then. Replies name their thread (thread_id = the first comment's id); a thread's first
-- comment has thread_id = id. Ids are chosen by the client (a re-sent comment is the same row).
CREATE TABLE comments (
    doc_id       uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    id           text NOT NULL,
    thread_id    text NOT NULL,
    author_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body         text NOT NULL,
    anchor_start text NOT NULL DEFAULT '',
    anchor_end   text NOT NULL DEFAULT '',
    quote        text NOT NULL DEFAULT '',
    mentions     text NOT NULL DEFAULT '[]',
    resolved     boolean NOT NULL DEFAULT false,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    edited_at    timestamptz,
    PRIMARY KEY (doc_id, id)
);
CREATE INDEX comments_thread ON comments(doc_id, thread_id);

-- The commenter role (reads the text, writes comments, cannot edit).
ALTER TABLE document_permissions DROP CONSTRAINT document_permissions_role_check;
ALTER TABLE document_permissions ADD CONSTRAINT document_permissions_role_check
    CHECK (role IN ('editor', 'commenter', 'viewer'));
