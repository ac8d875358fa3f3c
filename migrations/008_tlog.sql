-- The transparency log: an append-only Merkle tree (RFC 6962 hashing) of every publication,
-- retirement, unpublishing and review decision, with signed checkpoints.
CREATE TABLE tlog_records (
    index        bigint PRIMARY KEY CHECK (index >= 0),
    kind         text NOT NULL,
    algorithm_id uuid NOT NULL,
    body         text NOT NULL,      -- the record exactly as hashed (one JSON line)
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tlog_records_algorithm ON tlog_records (algorithm_id, index);

-- The tree's stored hashes, addressed as golang.org/x/mod/sumdb/tlog numbers them.
CREATE TABLE tlog_hashes (
    id    bigint PRIMARY KEY,
    hash  bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE tlog_checkpoints (
    size        bigint PRIMARY KEY,
    root        bytea NOT NULL,
    signed      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Append-only, like the audit trail.
REVOKE UPDATE, DELETE, TRUNCATE ON tlog_records, tlog_hashes, tlog_checkpoints FROM registry_app;
CREATE TRIGGER tlog_records_append_only BEFORE UPDATE OR DELETE ON tlog_records
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER tlog_hashes_append_only BEFORE UPDATE OR DELETE ON tlog_hashes
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER tlog_checkpoints_append_only BEFORE UPDATE OR DELETE ON tlog_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
