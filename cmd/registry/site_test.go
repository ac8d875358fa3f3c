package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/pgtest"
)

// TestSiteCommand runs `registry site` as the shell would, on the demo: the site is written
// with its summary, a second run replaces it, and bad arguments are refused. What the site
// holds is tested in internal/site.
func TestSiteCommand(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("REGISTRY_DATA_DIR", t.TempDir())
	t.Setenv("REGISTRY_BASE_URL", "")
	if out, err := run(t, "", "seed", "--demo"); err != nil {
		t.Fatalf("seed --demo: %q, %v", out, err)
	}
	dir := filepath.Join(t.TempDir(), "public")

	out, err := run(t, "", "site", dir, "--base-url", "https://algorismes.example.cat/")
	if err != nil {
		t.Fatalf("site: %v\n%s", err, out)
	}
	summary := regexp.MustCompile(`^site: (\d+) pages, (\d+) files, [\d.]+ (MB|kB|bytes) in ` + regexp.QuoteMeta(dir) + ` \(`)
	if m := summary.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("site printed:\n%s", out)
	}
	home, err := os.ReadFile(filepath.Join(dir, "es", "index.html"))
	if err != nil || !strings.Contains(string(home), `action="https://algorismes.example.cat/es/algorithms"`) {
		t.Errorf("es/index.html (%v) does not send its search to the live register", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog.jsonld")); err != nil {
		t.Errorf("catalog.jsonld: %v", err)
	}

	// Again, flags first and without a live register: the site is replaced, the catalogue
	// (which needs the register's address) goes, and the summary says what was removed.
	out, err = run(t, "", "site", "--data-dir", os.Getenv("REGISTRY_DATA_DIR"), dir)
	if err != nil || !strings.Contains(out, "links to search, forms and sign-in removed") {
		t.Fatalf("second site: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "catalog.jsonld")); !os.IsNotExist(err) {
		t.Errorf("catalog.jsonld survived the second run: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "index.html")); err != nil || !strings.Contains(string(b), "url=ca/index.html") {
		t.Errorf("index.html: %v", err)
	}

	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"site"},
		{"site", dir, "other"},
		{"site", dir, "--base-url", "ftp://example.org"},
		{"site", dir, "--base-url", "algorismes.example.cat"},
		{"site", foreign},
	} {
		if _, err := run(t, "", args...); err == nil {
			t.Errorf("registry %s: accepted", strings.Join(args, " "))
		}
	}
}
