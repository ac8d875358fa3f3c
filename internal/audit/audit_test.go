package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestRecordAndList(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	for _, e := range []audit.Event{
		{ActorEmail: "a@example.org", Action: audit.Login, Subject: "a@example.org", ClientIP: "10.0.0.1"},
		{ActorEmail: "b@example.org", Action: audit.LoginFailed, Subject: "b@example.org", Details: map[string]any{"reason": "wrong password"}},
		{ActorEmail: "a@example.org", Action: audit.Forbidden, Subject: "GET /admin"},
	} {
		if err := audit.Record(ctx, pool, e); err != nil {
			t.Fatal(err)
		}
	}
	events, err := audit.List(ctx, pool, audit.Filter{Actor: "a@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Action)
	}
	if diff := cmp.Diff([]string{audit.Forbidden, audit.Login}, got); diff != "" {
		t.Errorf("events of a@ newest first (-want +got):\n%s", diff)
	}
	failed, _ := audit.List(ctx, pool, audit.Filter{Action: audit.LoginFailed})
	if len(failed) != 1 || failed[0].Details["reason"] != "wrong password" {
		t.Errorf("details not kept: %+v", failed)
	}
}

// The audit trail is append-only twice over: the application role has no UPDATE, DELETE or
// TRUNCATE privilege, and a trigger refuses them even to the owner.
func TestAuditEventsAreAppendOnly(t *testing.T) {
	pool, ownerURL := pgtest.NewDatabase(t)
	ctx := context.Background()
	if err := audit.Record(ctx, pool, audit.Event{Action: audit.Login}); err != nil {
		t.Fatal(err)
	}
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	for _, sql := range []string{
		`UPDATE audit_events SET action = 'rewritten'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		for name, exec := range map[string]func(string) error{
			"application": func(s string) error { _, err := pool.Exec(ctx, s); return err },
			"owner":       func(s string) error { _, err := owner.Exec(ctx, s); return err },
		} {
			err := exec(sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Errorf("%s role: %s: err = %v, want insufficient_privilege", name, sql, err)
			}
		}
	}
	events, _ := audit.List(ctx, pool, audit.Filter{})
	if len(events) != 1 || events[0].Action != audit.Login {
		t.Errorf("events changed: %+v", events)
	}
}
