package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/server"
)

// TestLogVerify seeds the demo through the workflow, verifies the register from outside
// through its public API, then rewrites a published fact sheet behind the log's back and
// checks that the verification now fails, naming the entry.
func TestLogVerify(t *testing.T) {
	pool, ownerURL := pgtest.NewDatabase(t)
	ctx := context.Background()
	srv, err := server.New(server.Config{BaseURL: "http://registry.test", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))},
		pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, environment{stdout: io.Discard, stderr: io.Discard}, srv); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	out, err := run(t, "", "log", "verify", "--url", hs.URL)
	if err != nil || !strings.Contains(out, "OK:") {
		t.Fatalf("verify of an honest register: %v\n%s", err, out)
	}

	owner, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	if _, err := owner.Exec(ctx, `UPDATE revisions SET fact_sheet = jsonb_set(fact_sheet, '{goal,ca}', '"Un altre objectiu."')
		WHERE id = (SELECT r.id FROM revisions r JOIN algorithms a ON a.id = r.algorithm_id
		            WHERE a.slug = 'risc-caiguda-arbrat' AND r.state = 'published' ORDER BY r.number DESC LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "", "log", "verify", "--url", hs.URL)
	if err == nil || !strings.Contains(out, "risc-caiguda-arbrat") {
		t.Fatalf("a silently rewritten fact sheet passed verification: %v\n%s", err, out)
	}
}
