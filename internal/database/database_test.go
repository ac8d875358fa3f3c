package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrationsAreIdempotent(t *testing.T) {
	_, ownerURL := pgtest.NewDatabase(t) // already migrated once
	ctx := context.Background()
	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	var before int
	if err := owner.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before == 0 {
		t.Fatal("no migration applied")
	}
	if err := database.Migrate(ctx, ownerURL); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	var after int
	if err := owner.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&after); err != nil || after != before {
		t.Fatalf("version %d after re-running, want %d (%v)", after, before, err)
	}
}

func TestApplicationRoleIsRestricted(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	var role string
	if err := pool.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil || role != database.AppRole {
		t.Fatalf("pool works as %q (%v), want %s", role, err, database.AppRole)
	}
	_, err := pool.Exec(ctx, `DROP TABLE users`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Fatalf("application role dropped a table: %v", err)
	}
}

func TestTxRollsBack(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := database.Tx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_events (action) VALUES ('x')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx returned %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rolled-back insert is visible: %d rows (%v)", n, err)
	}
}
