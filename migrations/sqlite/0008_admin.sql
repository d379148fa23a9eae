-- Administrators and disabled accounts. An administrator manages accounts and the server's
-- sign-up policy; a disabled account cannot sign in and its sessions are ended.
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1));
ALTER TABLE users ADD COLUMN disabled_at TEXT;
CREATE INDEX users_admins ON users(is_admin) WHERE is_admin = 1;
