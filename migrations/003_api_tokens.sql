-- API tokens: a program acts for a staff member with "Authorization: Bearer <token>". Like
-- sessions, only the SHA-256 of a token is kept, so a copy of the database hands out no
-- working token; the prefix (its first 8 characters) lets the owner tell tokens apart.
-- The application role gets its privileges from the default privileges set in 001.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    prefix        text NOT NULL CHECK (char_length(prefix) = 8),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    expires_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at DESC);
