package database_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/pgtest"
)

// TestReadsFollowTheReplica proves, on a real streaming replica, that Reads reads from the
// replica, never from a replica that has not replayed a change announced with Require (it
// reads from the primary meanwhile), comes back to the replica once it has caught up, and
// leaves a replica that stopped.
func TestReadsFollowTheReplica(t *testing.T) {
	t.Parallel()
	db := pgtest.NewReplicated(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	owner := connectOwner(t, db.PrimaryURL)
	if _, err := owner.Exec(ctx, `CREATE TABLE notes (v text); GRANT SELECT ON notes TO registry_app;
		INSERT INTO notes VALUES ('first')`); err != nil {
		t.Fatal(err)
	}
	reads := database.NewReads(db.Primary, db.Replica, slog.New(slog.DiscardHandler))
	reads.Require(ctx)
	count := func() int {
		t.Helper()
		var n int
		if err := reads.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitForReplica := func() {
		t.Helper()
		for !reads.Replica(ctx) {
			select {
			case <-ctx.Done():
				t.Fatal("the replica never caught up")
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	waitForReplica()
	if n := count(); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}

	// A change made without Require is not waited for: reads stay on the paused replica,
	// which proves that they go there at all.
	db.PauseReplay(t)
	if _, err := owner.Exec(ctx, `INSERT INTO notes VALUES ('unannounced')`); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("count = %d on the paused replica, want 1: the read went to the primary", n)
	}

	// Announced, the change is read from the primary until the replica has replayed it.
	if _, err := owner.Exec(ctx, `INSERT INTO notes VALUES ('announced')`); err != nil {
		t.Fatal(err)
	}
	reads.Require(ctx)
	time.Sleep(50 * time.Millisecond) // long enough for a check of the replica
	if reads.Replica(ctx) {
		t.Fatal("reads went to a replica that has not replayed the announced change")
	}
	if n := count(); n != 3 {
		t.Fatalf("count = %d after Require, want 3 (from the primary)", n)
	}
	if lag, reachable := reads.Lag(); !reachable || lag <= 0 {
		t.Errorf("Lag() = %d, %v while paused, want > 0, true", lag, reachable)
	}
	// A request that ends while its read asks the replica says nothing about the replica.
	gone, cancelGone := context.WithCancel(ctx)
	cancelGone()
	time.Sleep(50 * time.Millisecond) // past checkEvery, so that the read asks
	if reads.Replica(gone) {
		t.Fatal("reads went to the lagging replica")
	}
	if _, reachable := reads.Lag(); !reachable {
		t.Error("a cancelled request marked the replica unreachable")
	}

	db.ResumeReplay(t)
	waitForReplica()
	if n := count(); n != 3 {
		t.Fatalf("count = %d on the caught-up replica, want 3", n)
	}
	if lag, reachable := reads.Lag(); !reachable || lag != 0 {
		t.Errorf("Lag() = %d, %v once caught up, want 0, true", lag, reachable)
	}

	// A replica that stops: the reads under way are read again from the primary, and the
	// replica is left until a check finds it again.
	db.StopReplica(t)
	if n := count(); n != 3 {
		t.Fatalf("count = %d just after the replica stopped, want 3 (from the primary)", n)
	}
	var notes []string
	rows, err := reads.Query(ctx, `SELECT v FROM notes ORDER BY v`)
	if err == nil {
		notes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(notes) != 3 {
		t.Fatalf("Query with the replica stopped: %v, %v", notes, err)
	}
	if reads.Replica(ctx) {
		t.Error("reads still go to the stopped replica")
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go reads.Run(runCtx, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	if reads.Replica(ctx) {
		t.Error("a check found the stopped replica")
	}
	if _, reachable := reads.Lag(); reachable {
		t.Error("Lag() reports the stopped replica reachable")
	}
}

func connectOwner(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// TestReadsWithoutReplica proves that Reads with no replica, or with a "replica" that is
// not a standby, reads from the primary.
func TestReadsWithoutReplica(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	for _, replica := range []*database.Reads{
		database.NewReads(pool, nil, slog.New(slog.DiscardHandler)),
		database.NewReads(pool, pool, slog.New(slog.DiscardHandler)),
	} {
		replica.Require(ctx)
		if replica.Replica(ctx) {
			t.Error("reads go to a replica that is none")
		}
		var one int
		if err := replica.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
			t.Errorf("read: %d, %v", one, err)
		}
	}
}
