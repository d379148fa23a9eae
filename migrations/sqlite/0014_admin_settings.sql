-- Server-wide settings an administrator changes at run time (the sign-up policy), read by every
-- worker and node from here; and server invitations: single-use, expiring invitations to create an
-- account on a server whose sign-up is by invitation only (only the SHA-256 of the token is kept).
CREATE TABLE server_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE server_invitations (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    email      TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX invitations_email ON invitations(email, expires_at);
