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
