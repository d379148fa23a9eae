-- Password reset links: single use, expiring; only the SHA-256 of the link's token is stored.
-- Using one deletes every outstanding reset of the same user.
CREATE TABLE password_resets (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);
CREATE INDEX password_resets_expiry ON password_resets(expires_at);

-- Personal API tokens: named, scoped (read or read-write), optionally expiring, revocable.
-- Only the SHA-256 of the secret is stored.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'read-write')),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,                                -- NULL: never
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id, created_at);
