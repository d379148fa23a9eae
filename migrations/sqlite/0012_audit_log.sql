-- The audit log: who did what, when, from where. Append-only: rows are never changed, only
-- deleted when older than the retention. Names, addresses and titles are copied as they were, so
-- an entry stays readable after the account or the document is gone (no foreign keys).
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    action       TEXT NOT NULL,
    actor_id     TEXT,
    actor_email  TEXT NOT NULL DEFAULT '',
    actor_name   TEXT NOT NULL DEFAULT '',
    ip           TEXT,
    doc_id       TEXT,
    doc_title    TEXT NOT NULL DEFAULT '',
    subject_id   TEXT,
    subject_name TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_doc ON audit_log(doc_id, id) WHERE doc_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log(actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
