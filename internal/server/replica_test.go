package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/pgtest"
)

// TestPublicReadsFromReplica runs the deployment PRODUCT.md describes on a real streaming
// replica: the staff's instance works on the primary; the citizens' instance reads public
// pages from the replica. It proves that the public side reads the replica (a change the
// replica has not replayed, and nobody announced, stays unseen there), and that a lagging
// replica never makes it serve an old page after a publication: told through
// LISTEN/NOTIFY, it reads from the primary until the replica has caught up.
func TestPublicReadsFromReplica(t *testing.T) {
	t.Parallel()
	db := pgtest.NewReplicated(t)
	staff := newTestAppOn(t, db.Primary, db.PrimaryURL, nil)
	public := newTestAppOn(t, db.Primary, db.PrimaryURL, db.Replica)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	go public.srv.reads.Run(ctx, 10*time.Millisecond) // RunReplicaCheck, at a test's pace
	waitUntil := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			select {
			case <-ctx.Done():
				t.Fatalf("still waiting for %s", what)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	onReplica := func() bool { return public.srv.reads.Replica(ctx) }

	rev := publishDemo(t, staff, "risc-caiguda-arbrat")
	// As the publication's notification would (the cache listener starts later, so that no
	// notification arrives at a moment the test does not choose).
	public.srv.reads.Require(ctx)
	c := public.client()
	path, search := "/ca/algorithms/risc-caiguda-arbrat", "/ca/algorithms?q=arbrat"
	waitUntil("the replica to replay the first publication", onReplica)
	mustContain(t, "a search on the replica", c.get(search).body, "/ca/algorithms/risc-caiguda-arbrat")
	expectStatus(t, c.get(path), http.StatusOK) // now cached

	// The replica stops replaying. A change written on the primary behind the register's
	// back, announced to no one, does not show: the search reads the replica.
	db.PauseReplay(t)
	owner, err := pgx.Connect(ctx, db.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(context.Background())
	if _, err := owner.Exec(ctx, `UPDATE search_documents SET description_short = '{"ca": "Canviat només al primari"}'`); err != nil {
		t.Fatal(err)
	}
	mustNotContain(t, "a search on the paused replica", c.get(search).body, "només al primari")
	if !onReplica() {
		t.Fatal("public reads left the replica though nothing was announced")
	}

	// A publication through the staff's instance: the citizens' instance hears of it and,
	// with its replica still paused, serves the new revision from the primary. (Its
	// listener drops every page when it connects, too, and then waits for the replica.)
	go public.srv.RunCacheListener(ctx)
	publishChange(t, staff, rev, func(s *algorithms.FactSheet) {
		s.DescriptionShort = algorithms.Text{"ca": "Descripció nova i inconfusible de la segona revisió."}
	})
	waitUntil("the new revision on the citizens' instance", func() bool { return strings.Contains(c.get(path).body, "inconfusible") })
	if onReplica() {
		t.Fatal("public reads went back to a replica that has not replayed the publication")
	}
	mustContain(t, "the API while the replica lags", c.get("/api/v1/algorithms/risc-caiguda-arbrat").body, "inconfusible")
	mustContain(t, "a search while the replica lags", c.get(search).body, "inconfusible")
	var health map[string]any
	healthz := c.get("/healthz")
	loadAPIDescription(t, c).check(healthz, "/healthz") // the OpenAPI document describes it
	if err := json.Unmarshal([]byte(healthz.body), &health); err != nil || health["replica"] != "ok" ||
		health["replica_lag_bytes"].(float64) <= 0 {
		t.Errorf("healthz while the replica lags = %v (%v), want replica ok with a lag", health, err)
	}

	// Replaying again, the replica catches up and is read again; the pages stay new.
	db.ResumeReplay(t)
	waitUntil("the replica to catch up", onReplica)
	for _, page := range []string{path, search, "/api/v1/algorithms/risc-caiguda-arbrat"} {
		mustContain(t, page+" on the caught-up replica", c.get(page).body, "inconfusible")
	}
	mustContain(t, "healthz", c.get("/healthz").body, `"replica":"ok"`, `"replica_lag_bytes":0`)
}
