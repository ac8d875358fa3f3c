package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/apidoc"
	"github.com/civictech/registry/internal/pgstart"
	"github.com/civictech/registry/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// run calls Main like the shell would, with stdin and collected output.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := Main(context.Background(), args, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestUserCommands(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	out, err := run(t, "a long enough password\n", "user", "add", "laia@example.org", "--name", "Laia Puig", "--role", "author", "--role", "reviewer", "--password-stdin")
	if err != nil || !strings.Contains(out, "created laia@example.org") {
		t.Fatalf("user add: %q, %v", out, err)
	}
	if _, err := run(t, "short\n", "user", "add", "b@example.org", "--name", "B", "--role", "author", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "password: Use at least 12 characters.") {
		t.Errorf("weak password: err = %v", err)
	}
	if _, err := run(t, "", "user", "add", "c@example.org", "--name", "C", "--role", "wizard", "--password-stdin"); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := run(t, "", "user", "roles", "laia@example.org", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "user", "disable", "laia@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "another long password\n", "user", "passwd", "laia@example.org", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "", "user", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "laia@example.org") || !strings.Contains(out, "admin") || !strings.Contains(out, "disabled") {
		t.Errorf("user list:\n%s", out)
	}
	if _, err := run(t, "", "user", "disable", "nobody@example.org"); err == nil {
		t.Error("disabling an unknown account succeeded")
	}
}

func TestVersionAndUsage(t *testing.T) {
	if out, err := run(t, "", "version"); err != nil || !strings.HasPrefix(out, "registry ") {
		t.Errorf("version: %q %v", out, err)
	}
	if _, err := run(t, "", "frobnicate"); err == nil {
		t.Error("unknown command accepted")
	}
}

// TestServeWithPrivateDatabase runs the real program as `make run` does: no DATABASE_URL, so
// it starts its own PostgreSQL under the data directory, seeds the demo, serves, and stops
// everything cleanly when told to; a second start reuses the data.
func TestServeWithPrivateDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	dir, err := pgstart.TempDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("DATABASE_URL", "")
	dataDir := filepath.Join(dir, "data")

	out := serveOnce(t, dataDir, func(base string) {
		// The demo entries name the listed departments, in the list's three languages.
		res, err := http.Get(base + "/api/v1/algorithms?limit=200")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct {
			Items []struct {
				Slug       string            `json:"slug"`
				Department map[string]string `json:"department"`
			} `json:"items"`
		}
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil || len(page.Items) == 0 {
			t.Fatalf("the demo's entries: %v (%d)", err, len(page.Items))
		}
		for _, e := range page.Items {
			if e.Department["ca"] == "" || e.Department["es"] == "" || e.Department["en"] == "" {
				t.Errorf("demo entry %s names its department in %v only", e.Slug, e.Department)
			}
		}
	}, "--demo")
	if !strings.Contains(out, "admin@demo.example") {
		t.Errorf("first start printed no demo logins:\n%s", out)
	}
	if !regexp.MustCompile(`entries registered and reviewed, [1-9][0-9]* departments`).MatchString(out) {
		t.Errorf("first start seeded no departments:\n%s", out)
	}
	// Another council's deployment names itself in the open data catalogue.
	t.Setenv("REGISTRY_PUBLISHER_NAME", "Ajuntament de Girona")
	t.Setenv("REGISTRY_CONTACT_EMAIL", "dades@girona.test")
	out = serveOnce(t, dataDir, func(base string) {
		res, err := http.Get(base + apidoc.CatalogJSONLDPath)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		for _, want := range []string{"Ajuntament de Girona", "mailto:dades@girona.test"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the catalogue does not name %q:\n%.800s", want, body)
			}
		}
		// A read replica that is not there: public pages come from the primary, and the
		// health check says so without failing.
		for path, want := range map[string]string{"/healthz": `"replica":"unreachable"`, "/ca/algorithms": "<h1"} {
			res, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("GET %s with the replica away: %d, want 200 with %s:\n%.400s", path, res.StatusCode, want, body)
			}
		}
	}, "--demo", "--cpu-profile", filepath.Join(dir, "cpu.pprof"),
		"--replica-url", "host="+filepath.Join(dir, "no-replica-here")+" dbname=registry")
	if profile, err := os.ReadFile(filepath.Join(dir, "cpu.pprof")); err != nil || len(profile) < 2 || profile[0] != 0x1f || profile[1] != 0x8b {
		t.Errorf("--cpu-profile wrote no profile (a gzipped protocol buffer): %d bytes, %v", len(profile), err)
	}
	if !strings.Contains(out, "already has accounts") {
		t.Errorf("second start did not reuse the data:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postgres still running after shutdown (postmaster.pid: %v)", err)
	}
}

// serveOnce starts serve, checks /healthz (and whatever probe checks, when not nil), then
// cancels it like SIGTERM would.
func serveOnce(t *testing.T, dataDir string, probe func(base string), extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
		done <- Main(ctx, args, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	var out strings.Builder
	lines := bufio.NewScanner(pr)
	base := ""
	for base == "" && lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if rest, ok := strings.CutPrefix(lines.Text(), "registry: serving on "); ok {
			base = rest
		}
	}
	if base == "" {
		t.Fatalf("serve never said where it listens; output:\n%s\nerr: %v", out.String(), <-done)
	}
	go io.Copy(io.Discard, pr)
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	if probe != nil {
		probe(base)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop within 60 s of the signal")
	}
	return out.String()
}
