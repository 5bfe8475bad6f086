-- Lead time and change failure (issue 12, item 4). Times are RFC 3339 UTC text, as in the
-- change tables.

-- When a merged change was first seen live in a cluster: the cluster's applied revision
-- contained its merge commit and every resource it touches was synced there.
CREATE TABLE change_live (
    change_id INTEGER NOT NULL REFERENCES changes (id),
    cluster TEXT NOT NULL,
    live_at TEXT NOT NULL,
    revision TEXT NOT NULL,
    PRIMARY KEY (change_id, cluster)
);

-- The first failed state of a change's resource in a cluster within a day of its merge.
CREATE TABLE change_failures (
    change_id INTEGER NOT NULL REFERENCES changes (id),
    cluster TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (change_id, cluster)
);

-- Changes created by restoring an earlier version (POST .../restore).
CREATE TABLE change_restores (
    change_id INTEGER PRIMARY KEY REFERENCES changes (id),
    created_at TEXT NOT NULL
);

-- One row per merged change, the read model `/insights` and `/metrics` scan: when it was first
-- proposed, first approved, merged, and last went live (over the clusters it reached), and
-- whether it failed (a failed state) or is a restore. Written with the merge, then by the
-- recorder; filled here for changes merged before this migration.
CREATE TABLE change_lead (
    change_id INTEGER PRIMARY KEY REFERENCES changes (id),
    merged_at TEXT NOT NULL,
    proposed_at TEXT,
    approved_at TEXT,
    live_at TEXT,
    failed INTEGER NOT NULL DEFAULT 0,
    restore INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX change_lead_by_merge ON change_lead (merged_at, change_id);
INSERT INTO change_lead (change_id, merged_at, proposed_at, approved_at)
SELECT m.change_id, MIN(m.created_at),
    (SELECT MIN(p.created_at) FROM change_events p WHERE p.change_id = m.change_id AND p.kind = 'propose'),
    (SELECT MIN(a.created_at) FROM change_events a WHERE a.change_id = m.change_id AND a.kind IN ('approval', 'dismissed_approval'))
FROM change_events m WHERE m.kind = 'merge' GROUP BY m.change_id;
