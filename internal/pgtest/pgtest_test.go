package pgtest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { Main(m) }

// TestIndependentDatabases proves that parallel tests get distinct, migrated databases
// that do not see each other's rows, and that the pool works as the application role.
func TestIndependentDatabases(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{} // subtest → current_database()
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"first", "second"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				pool, _ := NewDatabase(t)
				if _, err := pool.Exec(ctx, "INSERT INTO audit_events (action) VALUES ($1)", name); err != nil {
					t.Fatal(err)
				}
				var db, role string
				var actions []string
				err := pool.QueryRow(ctx, "SELECT current_database(), current_user, "+
					"(SELECT array_agg(action) FROM audit_events)").Scan(&db, &role, &actions)
				if err != nil {
					t.Fatal(err)
				}
				if role != "registry_app" || len(actions) != 1 || actions[0] != name {
					t.Errorf("role %q, actions %q; want registry_app, [%s]", role, actions, name)
				}
				mu.Lock()
				seen[name] = db
				mu.Unlock()
			})
		}
	})
	if len(seen) != 2 || seen["first"] == seen["second"] {
		t.Fatalf("databases = %v, want two distinct ones", seen)
	}
	for _, db := range seen {
		var exists bool
		err := adminPool.QueryRow(context.Background(), "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", db).Scan(&exists)
		if err != nil || exists {
			t.Errorf("database %s still exists after its test (err %v)", db, err)
		}
	}
}

// TestAuditEventsAppendOnly proves both guards of migrations/001_foundation.sql: the
// application role lacks the UPDATE privilege, and even the owner is stopped by the trigger.
func TestAuditEventsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, ownerURL := NewDatabase(t)
	if _, err := pool.Exec(ctx, "INSERT INTO audit_events (action) VALUES ('sign_in')"); err != nil {
		t.Fatal(err)
	}

	_, err := pool.Exec(ctx, "UPDATE audit_events SET action = 'x'")
	wantDenied(t, "application role", err, "permission denied for table audit_events")

	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	_, err = owner.Exec(ctx, "UPDATE audit_events SET action = 'x'")
	wantDenied(t, "owner", err, "audit_events is append-only")
}

func wantDenied(t *testing.T, who string, err error, message string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, message) {
		t.Errorf("UPDATE as %s: err = %v, want SQLSTATE 42501 %q", who, err, message)
	}
}

func TestDatabaseName(t *testing.T) {
	long := strings.Repeat("Sub/Test ", 20)
	for _, in := range []string{"TestX", "TestX/sub_case#01", long, "Ünïcode/テスト"} {
		got := databaseName(in)
		if len(got) > 63 || !strings.HasPrefix(got, "t_") || strings.Trim(got, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("databaseName(%q) = %q", in, got)
		}
	}
	if a, b := databaseName("TestX"), databaseName("TestX"); a == b {
		t.Errorf("two names for one test are equal: %s", a)
	}
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5/postgres?sslmode=disable": "postgres://u:p@h:5/t_x?sslmode=disable",
		"host=/s user=postgres dbname=postgres":       "host=/s user=postgres dbname=postgres dbname=t_x",
	} {
		if got := withDatabase(in, "t_x"); got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", in, got, want)
		}
	}
}
