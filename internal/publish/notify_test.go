package publish

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/civictech/registry/internal/pgtest"
)

// TestCoherenceAcrossInstances: two instances' caches on one database; a change announced
// by one drops the entry's pages from the other, through LISTEN/NOTIFY.
func TestCoherenceAcrossInstances(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, b := &Public{cache: newPageCache(100)}, &Public{cache: newPageCache(100)}
	ca, cb := NewCoherence(pool, a, log), NewCoherence(pool, b, log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cb.Listen(ctx)

	// Wait until b listens: its first (re)connection empties its cache.
	b.cache.put("sentinel", &cachedPage{algorithmID: "x"})
	waitFor(t, func() bool { _, ok := b.cache.get("sentinel"); return !ok })

	b.cache.put("fs|entry-1", &cachedPage{algorithmID: "entry-1"})
	b.cache.put("fs|entry-2", &cachedPage{algorithmID: "entry-2"})
	ca.Changed(ctx, "entry-1")
	waitFor(t, func() bool { _, ok := b.cache.get("fs|entry-1"); return !ok })
	if _, ok := b.cache.get("fs|entry-2"); !ok {
		t.Error("a change to entry-1 dropped entry-2's page")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
