-- The application's own role: it reads and writes the tables it needs, and no more.
DO $$
BEGIN
    CREATE ROLE registry_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- roles are shared by every database of a cluster
END
$$;

GRANT registry_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO registry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO registry_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO registry_app;

CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           citext NOT NULL UNIQUE,
    name            text NOT NULL,
    password_hash   text NOT NULL,
    roles           text[] NOT NULL DEFAULT '{}',
    totp_secret     text,
    totp_enabled_at timestamptz,
    totp_last_step  bigint NOT NULL DEFAULT 0,
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_roles_known CHECK (roles <@ ARRAY['author', 'reviewer', 'expert', 'admin']::text[])
);

-- Whether a role must use a second factor; an admin sets it.
CREATE TABLE role_policies (
    role          text PRIMARY KEY CHECK (role IN ('author', 'reviewer', 'expert', 'admin')),
    mfa_required  boolean NOT NULL DEFAULT false
);
INSERT INTO role_policies (role) VALUES ('author'), ('reviewer'), ('expert'), ('admin');

-- Server-side sessions: the cookie carries a random token, the table its SHA-256, so that a
-- copy of the database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
    mfa_pending   boolean NOT NULL DEFAULT false,
    data          bytea NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Failed sign-ins, counted per account and per client address to throttle guessing.
CREATE TABLE login_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      citext NOT NULL,
    client_ip  text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, failed_at);
CREATE INDEX login_failures_ip ON login_failures (client_ip, failed_at);

-- Append-only audit trail: the application role may insert and read, never change.
CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    actor_email text NOT NULL DEFAULT '',
    action      text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    client_ip   text NOT NULL DEFAULT '',
    request_id  text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at DESC);
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM registry_app;

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
