-- Sessions: one row per sign-in, holding the only refresh token of it that may still be used
-- (rotation with reuse detection). Access tokens name their session (the `sid` claim).
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_jti TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT                                  -- NULL while signed in
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Invitations by e-mail to an address without an account: single use, expiring; only the
-- SHA-256 of the link's token is stored. Whoever redeems the link while signed in gets the role.
CREATE TABLE invitations (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    invited_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    UNIQUE (doc_id, email)
);
CREATE INDEX invitations_inviter ON invitations(invited_by, expires_at);

-- Grants held by invited-but-unregistered users (accounts with no password) were claimable by
-- whoever registered the address first. Registering grants nothing any more: drop them.
DELETE FROM document_permissions
WHERE user_id IN (SELECT id FROM users WHERE password_hash IS NULL);
