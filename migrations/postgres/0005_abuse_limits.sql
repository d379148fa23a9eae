-- Replica ids are forgotten once unused for a while, unless they authored log entries (those stay
-- bound forever, so nobody can take one over and forge its characters). last_seen_at is refreshed
-- each time the replica is bound again (every hello); ops_log_by_replica answers "did this replica
-- ever write?" without scanning the log.
ALTER TABLE replicas ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
UPDATE replicas SET last_seen_at = created_at;
CREATE INDEX replicas_last_seen ON replicas(last_seen_at);
CREATE INDEX ops_log_by_replica ON ops_log(replica);
