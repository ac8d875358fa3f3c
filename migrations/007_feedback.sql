-- Citizens' questions and error reports about published entries, moderated by the data
-- office. An answered item may be published under the entry's fact sheet.
CREATE TABLE feedback (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    algorithm_id     uuid NOT NULL REFERENCES algorithms (id),
    -- The published revision the citizen was reading.
    revision_number  int NOT NULL CHECK (revision_number > 0),
    kind             text NOT NULL CHECK (kind IN ('question', 'error')),
    body             text NOT NULL CHECK (char_length(body) BETWEEN 10 AND 5000),
    -- Optional; used only to answer, never published.
    email            text CHECK (email IS NULL OR (email <> '' AND char_length(email) <= 254)),
    lang             text NOT NULL CHECK (lang IN ('ca', 'es', 'en')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- A keyed SHA-256 (HMAC) of the client's address, for rate limiting across instances.
    -- The address itself is never stored; the hash is erased once no limit needs it.
    client_hash      bytea CHECK (client_hash IS NULL OR octet_length(client_hash) = 32),
    status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'answered', 'published', 'rejected')),
    answer           text NOT NULL DEFAULT '' CHECK (char_length(answer) <= 5000),
    answered_by      uuid REFERENCES users (id),
    answered_at      timestamptz,
    public           boolean NOT NULL DEFAULT false,
    -- Only an answered item is shown, and shown exactly when its status says so.
    CHECK (public = (status = 'published')),
    CHECK (status NOT IN ('answered', 'published') OR answer <> '')
);

-- Moderation: a status, newest first.
CREATE INDEX feedback_moderation ON feedback (status, created_at DESC, id DESC);
-- Rate limits: submissions per address and per entry in a recent window.
CREATE INDEX feedback_client_recent ON feedback (client_hash, created_at) WHERE client_hash IS NOT NULL;
CREATE INDEX feedback_algorithm_recent ON feedback (algorithm_id, created_at);
-- The questions and answers shown under a fact sheet.
CREATE INDEX feedback_public ON feedback (algorithm_id, answered_at) WHERE public;
