-- People who have signed in, by login name. Later issues hang drafts and approvals off this.
CREATE TABLE users (
    login TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    sign_ins INTEGER NOT NULL DEFAULT 1
);
