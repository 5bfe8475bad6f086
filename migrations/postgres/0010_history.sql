-- The history index: for each resource, the first-parent commits of the branch that changed
-- its document (or only moved it to another file), with the field-level diff. Built once,
-- then extended as the branch moves; a force-push cuts it back to the merge base.

-- How far the index has read each branch.
CREATE TABLE history_state (
    branch TEXT PRIMARY KEY,
    head TEXT NOT NULL,
    commits BIGINT NOT NULL
);

-- The first-parent chain as indexed: seq 1 is the root commit.
CREATE TABLE history_commits (
    branch TEXT NOT NULL,
    seq BIGINT NOT NULL,
    commit_id TEXT NOT NULL,
    PRIMARY KEY (branch, seq)
);
CREATE INDEX history_commits_by_id ON history_commits (branch, commit_id);

-- One row per resource per commit that changed it. action: created, modified, deleted, or
-- moved (same document, another file: kept to find the file, not listed).
CREATE TABLE history_entries (
    branch TEXT NOT NULL,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    seq BIGINT NOT NULL,
    commit_id TEXT NOT NULL,
    action TEXT NOT NULL,
    path TEXT NOT NULL,
    moved_from TEXT,
    committed_at TEXT NOT NULL,
    author TEXT NOT NULL,
    author_email TEXT NOT NULL,
    committer TEXT NOT NULL,
    committer_email TEXT NOT NULL,
    title TEXT NOT NULL,
    pull_request TEXT,
    change_url TEXT,
    fields TEXT NOT NULL,
    PRIMARY KEY (branch, kind, namespace, name, seq)
);
CREATE INDEX history_entries_by_seq ON history_entries (branch, seq);
