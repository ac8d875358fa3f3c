-- Algorithms and their numbered revisions. A revision holds the whole fact sheet as one
-- JSON document (the native record), so that adding a field to the standard needs no
-- migration; the columns beside it are what queries filter and join on.
CREATE TABLE algorithms (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every slug an algorithm has had, so old addresses keep working as redirects.
CREATE TABLE algorithm_slugs (
    slug          text PRIMARY KEY,
    algorithm_id  uuid NOT NULL REFERENCES algorithms (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE algorithm_owners (
    algorithm_id  uuid NOT NULL REFERENCES algorithms (id),
    user_id       uuid NOT NULL REFERENCES users (id),
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (algorithm_id, user_id)
);
CREATE INDEX algorithm_owners_user ON algorithm_owners (user_id);

CREATE TABLE revisions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    algorithm_id      uuid NOT NULL REFERENCES algorithms (id),
    number            int NOT NULL CHECK (number > 0),
    state             text NOT NULL DEFAULT 'draft' CHECK (state IN
                      ('draft', 'submitted', 'in_review', 'changes_requested', 'approved', 'published', 'rejected', 'withdrawn')),
    -- Bumped by every save: the optimistic lock that makes lost updates impossible.
    version           int NOT NULL DEFAULT 1,
    fact_sheet        jsonb NOT NULL,
    risk_answers      jsonb NOT NULL DEFAULT '{}',
    -- Computed from risk_answers at each save, with the definitions' versions they answered.
    risk_category     text CHECK (risk_category IN ('minimal risk', 'limited risk', 'high risk', 'unacceptable')),
    impact_level      smallint CHECK (impact_level BETWEEN 1 AND 4),
    approvals_needed  smallint NOT NULL DEFAULT 1,
    expert_required   boolean NOT NULL DEFAULT false,
    exception_claimed boolean NOT NULL DEFAULT false,
    created_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        uuid REFERENCES users (id),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (algorithm_id, number)
);
-- At most one revision per algorithm is being worked on or reviewed at a time.
CREATE UNIQUE INDEX revisions_one_open ON revisions (algorithm_id)
    WHERE state IN ('draft', 'submitted', 'in_review', 'changes_requested', 'approved');
CREATE INDEX revisions_state ON revisions (state);

-- Everyone who saved a revision: nobody reviews a revision they edited.
CREATE TABLE revision_editors (
    revision_id  uuid NOT NULL REFERENCES revisions (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (revision_id, user_id)
);
