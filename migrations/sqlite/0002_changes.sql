-- Change requests: drafts first, then proposed on a branch, reviewed, merged or closed.
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL,
    state TEXT NOT NULL,
    edits TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    branch TEXT,
    head_commit TEXT,
    merge_commit TEXT,
    conflict TEXT,
    issues TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    idempotency_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (author, idempotency_key)
);

-- The resources a change touches, for "open changes on this resource".
CREATE TABLE change_resources (
    change_id INTEGER NOT NULL REFERENCES changes (id),
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    action TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (change_id, kind, namespace, name)
);
CREATE INDEX change_resources_by_resource ON change_resources (kind, namespace, name);

-- Comments, approvals and state transitions, in order.
CREATE TABLE change_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id INTEGER NOT NULL REFERENCES changes (id),
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX change_events_by_change ON change_events (change_id, id);
CREATE UNIQUE INDEX one_approval_each ON change_events (change_id, author) WHERE kind = 'approval';
