-- DocStream schema, PostgreSQL dialect.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE,          -- trimmed and lower-cased
    name          text NOT NULL,
    password_hash text,                          -- NULL: invited by email, not registered yet
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id                     uuid PRIMARY KEY,
    title                  text NOT NULL,
    owner_id               uuid NOT NULL REFERENCES users(id),
    seq                    bigint NOT NULL DEFAULT 0,
    public_sharing_enabled boolean NOT NULL DEFAULT false,
    public_sharing_role    text NOT NULL DEFAULT 'viewer'
                           CHECK (public_sharing_role IN ('editor', 'viewer')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_owner ON documents(owner_id);

CREATE TABLE document_permissions (
    doc_id     uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc_id, user_id)
);
CREATE INDEX document_permissions_user ON document_permissions(user_id);

-- A replica id is bound to the first user (or guest: "guest-...") that uses it.
CREATE TABLE replicas (
    replica_id text PRIMARY KEY,
    user_id    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops_log (
    doc_id     uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    user_id    text NOT NULL,                    -- a user id, or "guest-..." on public documents
    replica    text NOT NULL,
    counter_lo bigint,
    counter_hi bigint,
    payload    bytea NOT NULL,
    kind       text NOT NULL,
    position   bigint NOT NULL,
    length     bigint NOT NULL,
    preview    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc_id, seq)
);
CREATE INDEX ops_log_replica ON ops_log(doc_id, replica, counter_hi);

CREATE TABLE snapshots (
    doc_id     uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    state      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc_id, seq)
);

CREATE TABLE versions (
    doc_id     uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version    integer NOT NULL,
    seq        bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('auto', 'named')),
    label      text,
    author_id  text,
    text       text NOT NULL,
    length     integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc_id, version)
);
