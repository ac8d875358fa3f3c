package pgtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/pgstart"
)

// Replicated is a migrated database on a private primary server with a streaming replica
// (a hot standby) of it, for tests of reading from a replica. It runs beside the shared
// cluster of Main and needs neither Main nor TEST_DATABASE_URL: a replica copies a whole
// server, so it gets one of its own.
type Replicated struct {
	// Primary and Replica are application pools (database.Open) on the two servers.
	Primary, Replica *pgxpool.Pool
	// PrimaryURL is the primary's superuser connection string to the database.
	PrimaryURL string
	replicaURL string
	standby    *pgstart.Cluster
}

// NewReplicated starts a primary and its replica for one test and stops both at cleanup.
func NewReplicated(t testing.TB) *Replicated {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster := func(opts pgstart.Options) *pgstart.Cluster {
		dir, err := pgstart.TempDir()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		c, err := pgstart.Start(ctx, dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Stop() })
		return c
	}
	primary := cluster(pgstart.Options{Fast: true})
	admin, err := pgxpool.New(ctx, primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, "CREATE DATABASE registry"); err != nil {
		t.Fatal(err)
	}
	r := &Replicated{PrimaryURL: primary.URL("registry")}
	if err := database.Migrate(ctx, r.PrimaryURL); err != nil {
		t.Fatal(err)
	}
	r.standby = cluster(pgstart.Options{Fast: true, StandbyOf: primary})
	r.replicaURL = r.standby.URL("registry")
	for _, p := range []struct {
		pool **pgxpool.Pool
		url  string
	}{{&r.Primary, r.PrimaryURL}, {&r.Replica, r.replicaURL}} {
		if *p.pool, err = database.Open(ctx, p.url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup((*p.pool).Close) // before the servers stop: cleanups run last-in first-out
	}
	return r
}

// PauseReplay stops the replica applying what the primary writes, so that it lags behind
// for as long as a test needs; ResumeReplay lets it catch up.
func (r *Replicated) PauseReplay(t testing.TB) { r.replayControl(t, "pg_wal_replay_pause") }

// ResumeReplay undoes PauseReplay.
func (r *Replicated) ResumeReplay(t testing.TB) { r.replayControl(t, "pg_wal_replay_resume") }

func (r *Replicated) replayControl(t testing.TB, function string) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, r.replicaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "SELECT "+function+"()"); err != nil {
		t.Fatal(err)
	}
}

// StopReplica shuts the replica down.
func (r *Replicated) StopReplica(t testing.TB) {
	t.Helper()
	if err := r.standby.Stop(); err != nil {
		t.Fatal(err)
	}
}
