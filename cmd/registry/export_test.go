package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/server"
)

// TestSeedAndExport seeds a database with `registry seed` and checks that `registry export`
// writes exactly the bytes the HTTP export serves.
func TestSeedAndExport(t *testing.T) {
	pool, url := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("REGISTRY_DATA_DIR", t.TempDir())
	if out, err := run(t, "", "seed", "--demo"); err != nil || !strings.Contains(out, "demo: 14 entries registered") {
		t.Fatalf("seed --demo: %q, %v", out, err)
	}
	if out, err := run(t, "", "seed", "--scale", "25"); err != nil || !strings.Contains(out, "25 synthetic entries") {
		t.Fatalf("seed --scale: %q, %v", out, err)
	}

	srv, err := server.New(server.Config{BaseURL: "http://127.0.0.1", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))},
		pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	get := func(path string) string {
		t.Helper()
		res, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
		}
		return string(b)
	}
	for format, path := range map[string]string{"json": "/api/v1/export.json", "ndjson": "/api/v1/export.ndjson",
		"csv": "/api/v1/export.csv", "eurocities": "/api/v1/export/eurocities.json"} {
		out, err := run(t, "", "export", "--format", format)
		if err != nil {
			t.Fatalf("export --format %s: %v", format, err)
		}
		if body := get(path); out != body {
			t.Errorf("export --format %s: %d bytes differ from GET %s (%d bytes)", format, len(out), path, len(body))
		}
	}
	file := filepath.Join(t.TempDir(), "all.ndjson")
	if _, err := run(t, "", "export", "--format", "ndjson", "--versions", "all", "--out", file); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	body := get("/api/v1/export.ndjson?versions=all")
	if string(written) != body {
		t.Errorf("export --out differs from GET ?versions=all")
	}
	// The 11 published demo entries have 18 published revisions; each synthetic entry has one.
	if n := strings.Count(body, "\n"); n != 18+25 {
		t.Errorf("%d published revisions, want %d", n, 18+25)
	}

	for _, args := range [][]string{
		{"export", "--format", "xml"},
		{"export", "--format", "eurocities", "--versions", "all"},
		{"export", "--format", "csv", "--versions", "some"},
		{"seed"},
		{"seed", "--scale", "-3"},
	} {
		if _, err := run(t, "", args...); err == nil {
			t.Errorf("registry %s: accepted", strings.Join(args, " "))
		}
	}
}
