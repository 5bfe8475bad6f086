-- Sign-in and access: each user's groups as the login provider last said (JSON array), for
-- ownership checks on their approvals.
ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
