-- Server-wide settings an administrator changes at run time (the sign-up policy), read by every
-- worker and node from here; and server invitations: single-use, expiring invitations to create an
-- account on a server whose sign-up is by invitation only (only the SHA-256 of the token is kept).
CREATE TABLE server_settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE server_invitations (
    id         uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    email      text NOT NULL UNIQUE,
    created_by uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX invitations_email ON invitations(email, expires_at);
