-- Acting as the user on the Git host: the OAuth token of each person who signed in through the
-- host's own login provider, sealed with `auth.token_key` (ChaCha20-Poly1305; `sealed` is the
-- base64 of nonce and ciphertext, the login bound as associated data), never in plain text.
-- `expires_at` (Unix seconds) is when the access token expires, if the provider said.
CREATE TABLE host_tokens (
    login TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    sealed TEXT NOT NULL,
    expires_at BIGINT,
    updated_at BIGINT NOT NULL
);
