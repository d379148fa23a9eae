-- The trash: DELETE /documents/{id} sets deleted_at (and who did it) instead of deleting the row.
-- A trashed document is hidden from every query that lists or opens documents, keeps its grants,
-- log, snapshots and versions for a restore, and is deleted for good when it is purged (by its
-- owner, or by the retention task once deleted_at is trash_retention_days old).
ALTER TABLE documents ADD COLUMN deleted_at timestamptz;
ALTER TABLE documents ADD COLUMN deleted_by uuid REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX documents_trashed ON documents(deleted_at) WHERE deleted_at IS NOT NULL;
