-- DocStream schema, SQLite dialect. Ids are UUID strings; timestamps are ISO-8601 UTC strings.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,          -- trimmed and lower-cased
    name          TEXT NOT NULL,
    password_hash TEXT,                          -- NULL: invited by email, not registered yet
    created_at    TEXT NOT NULL
);

CREATE TABLE documents (
    id                     TEXT PRIMARY KEY,
    title                  TEXT NOT NULL,
    owner_id               TEXT NOT NULL REFERENCES users(id),
    seq                    INTEGER NOT NULL DEFAULT 0,
    public_sharing_enabled INTEGER NOT NULL DEFAULT 0,
    public_sharing_role    TEXT NOT NULL DEFAULT 'viewer'
                           CHECK (public_sharing_role IN ('editor', 'viewer')),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX documents_owner ON documents(owner_id);

-- Grants other than ownership (the owner is documents.owner_id).
CREATE TABLE document_permissions (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);
CREATE INDEX document_permissions_user ON document_permissions(user_id);

-- A replica id is bound to the first user (or guest: "guest-...") that uses it.
CREATE TABLE replicas (
    replica_id TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The append-only ops log: one row per accepted `ops` message, seq has no gaps per document.
CREATE TABLE ops_log (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    user_id    TEXT NOT NULL,                    -- a user id, or "guest-..." on public documents
    replica    TEXT NOT NULL,
    counter_lo INTEGER,                          -- smallest counter the message's inserts create
    counter_hi INTEGER,                          -- largest; NULL for a delete-only message
    payload    BLOB NOT NULL,                    -- format version byte + JSON list of ops
    kind       TEXT NOT NULL,                    -- insert | delete | edit (history summary)
    position   INTEGER NOT NULL,
    length     INTEGER NOT NULL,
    preview    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
) WITHOUT ROWID;
CREATE INDEX ops_log_replica ON ops_log(doc_id, replica, counter_hi);

CREATE TABLE snapshots (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    state      BLOB NOT NULL,                    -- docstream.crdt state encoding (versioned)
    created_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
) WITHOUT ROWID;

-- Restore points: automatic (after a burst of editing) and named; retention is bounded per kind.
CREATE TABLE versions (
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('auto', 'named')),
    label      TEXT,
    author_id  TEXT,
    text       TEXT NOT NULL,
    length     INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, version)
) WITHOUT ROWID;
