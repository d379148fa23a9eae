-- In-app notifications: an @mention in a document or a comment, a reply in a thread you wrote in,
-- a document shared with you. A row belongs to one user; it is listed only while that user can
-- open the document (the query checks ownership or a grant each time), and goes with the user or
-- the document. read_at: opened or marked read; mailed_at: sent in an e-mail digest.
CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('mention', 'comment_mention', 'reply', 'share')),
    doc_id     uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    actor_id   uuid REFERENCES users(id) ON DELETE SET NULL,
    detail     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at    timestamptz,
    mailed_at  timestamptz
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_doc ON notifications(doc_id);
CREATE INDEX notifications_actor ON notifications(actor_id) WHERE actor_id IS NOT NULL;

-- Per-user notification settings: the e-mail digest (off unless chosen) and when the last went out.
CREATE TABLE notification_settings (
    user_id        uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    digest         text NOT NULL DEFAULT 'off' CHECK (digest IN ('off', 'daily', 'weekly')),
    last_digest_at timestamptz
);
CREATE INDEX notification_settings_digest ON notification_settings(digest) WHERE digest <> 'off';
