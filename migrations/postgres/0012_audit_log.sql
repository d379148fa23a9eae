-- The audit log: who did what, when, from where. Append-only: rows are never changed, only
-- deleted when older than the retention. Names, addresses and titles are copied as they were, so
-- an entry stays readable after the account or the document is gone (no foreign keys).
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    action       text NOT NULL,
    actor_id     text,
    actor_email  text NOT NULL DEFAULT '',
    actor_name   text NOT NULL DEFAULT '',
    ip           text,
    doc_id       text,
    doc_title    text NOT NULL DEFAULT '',
    subject_id   text,
    subject_name text NOT NULL DEFAULT '',
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_doc ON audit_log(doc_id, id) WHERE doc_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log(actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
