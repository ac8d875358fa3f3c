-- The ethics review: submission rounds, decisions, comments, claims, and the public outcome.

-- Each submission of a revision opens a round, with a snapshot of what was submitted so
-- that reviewers can see what changed since the previous round.
CREATE TABLE review_rounds (
    revision_id   uuid NOT NULL REFERENCES revisions (id),
    round         int NOT NULL CHECK (round > 0),
    submitted_by  uuid NOT NULL REFERENCES users (id),
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    fact_sheet    jsonb NOT NULL,
    risk_answers  jsonb NOT NULL,
    PRIMARY KEY (revision_id, round)
);

CREATE TABLE review_decisions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    revision_id  uuid NOT NULL REFERENCES revisions (id),
    round        int NOT NULL,
    reviewer_id  uuid NOT NULL REFERENCES users (id),
    decision     text NOT NULL CHECK (decision IN ('approve', 'request_changes', 'reject')),
    rationale    text NOT NULL CHECK (length(rationale) > 0),
    conditions   text NOT NULL DEFAULT '', -- public, for approvals
    as_expert    boolean NOT NULL DEFAULT false,
    accepts_exception boolean NOT NULL DEFAULT false,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (revision_id, round) REFERENCES review_rounds (revision_id, round)
);
-- One decision per reviewer per round: no double approval by one person.
CREATE UNIQUE INDEX review_decisions_once ON review_decisions (revision_id, round, reviewer_id);

CREATE TABLE review_comments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    revision_id  uuid NOT NULL REFERENCES revisions (id),
    round        int NOT NULL,
    author_id    uuid NOT NULL REFERENCES users (id),
    section      text NOT NULL DEFAULT '',
    body         text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_comments_revision ON review_comments (revision_id, id);

-- Who is working on a waiting revision.
CREATE TABLE review_claims (
    revision_id  uuid PRIMARY KEY REFERENCES revisions (id),
    reviewer_id  uuid NOT NULL REFERENCES users (id),
    claimed_at   timestamptz NOT NULL DEFAULT now()
);

-- The public outcome of each published revision.
CREATE TABLE publications (
    revision_id    uuid PRIMARY KEY REFERENCES revisions (id),
    algorithm_id   uuid NOT NULL REFERENCES algorithms (id),
    number         int NOT NULL,
    published_at   timestamptz NOT NULL DEFAULT now(),
    approvals      int NOT NULL,
    conditions     jsonb NOT NULL DEFAULT '[]', -- list of public conditions
    retirement     boolean NOT NULL DEFAULT false,
    UNIQUE (algorithm_id, number)
);
CREATE INDEX publications_algorithm ON publications (algorithm_id, number DESC);

-- Emergency unpublish leaves a public tombstone with the reason.
ALTER TABLE algorithms
    ADD COLUMN unpublished_at timestamptz,
    ADD COLUMN unpublish_reason text;

ALTER TABLE revisions
    ADD COLUMN submitted_at timestamptz,
    ADD COLUMN decided_at timestamptz;
