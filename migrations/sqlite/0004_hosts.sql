-- The change request on the Git host: its number (GitLab: iid; local: the change id), and the
-- host's last answer about it (state, reviews, checks, mergeability; JSON), read by webhooks
-- and polling.
ALTER TABLE changes ADD COLUMN host_number INTEGER;
ALTER TABLE changes ADD COLUMN host_state TEXT;
CREATE INDEX changes_by_host_number ON changes (host_number);
CREATE INDEX changes_by_head_commit ON changes (head_commit);

-- Webhook deliveries already handled, so a repeated delivery id changes nothing.
CREATE TABLE host_deliveries (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
