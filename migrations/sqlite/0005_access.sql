-- Sign-in and access: each user's groups as the login provider last said (JSON array), for
-- ownership checks on their approvals.
ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';

-- People who signed in through a login provider, keyed by the provider and its subject (a
-- provider's logins can change; its subject does not), with the login name Tollgate gave them.
CREATE TABLE accounts (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    login TEXT NOT NULL UNIQUE,
    PRIMARY KEY (provider, subject)
);

-- API tokens for scripts and CI: only the SHA-256 of the secret is kept. Times are Unix seconds.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_provider TEXT NOT NULL,
    owner_groups TEXT NOT NULL DEFAULT '[]',
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- The audit log: every state change and every refusal, with who, when (Unix seconds), what,
-- on which resource, the outcome (ok, refused, failed, with the error code) and the request id.
-- Nothing secret is written here.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    outcome TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
