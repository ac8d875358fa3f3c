-- Outgoing mail. An action enqueues its notifications in its own transaction, so a message
-- exists exactly when the action committed; a background worker delivers them later and
-- records the outcome here. A message that keeps failing stays with its last error.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind <> ''),
    recipient   text NOT NULL CHECK (recipient <> ''),
    -- One header line: a line break would let a value inject headers.
    subject     text NOT NULL CHECK (subject <> '' AND subject !~ '[\r\n]'),
    body        text NOT NULL, -- plain text
    created_at  timestamptz NOT NULL DEFAULT now(),
    not_before  timestamptz NOT NULL DEFAULT now(),
    attempts    int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  text,
    sent_at     timestamptz,
    -- Set for notifications that must go out once only, e.g. 'revision_due:<id>:<date>';
    -- NULL for the others (NULLs never collide).
    dedupe_key  text UNIQUE
);

-- What the worker looks for: unsent messages whose time has come.
CREATE INDEX outbox_pending ON outbox (not_before, id) WHERE sent_at IS NULL;
