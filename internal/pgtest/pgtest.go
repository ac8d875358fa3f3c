// Package pgtest gives tests of other packages throwaway, migrated databases: one private
// PostgreSQL cluster per test binary (or the server named by TEST_DATABASE_URL), and a fresh
// database per test, cloned from a template that is migrated once.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/pgstart"
)

// Set once by Main, before any test runs.
var (
	adminURL  string        // a superuser connection string, to the maintenance database
	adminPool *pgxpool.Pool // on adminURL; creates and drops the test databases
	tmplName  string        // the migrated template, unique to this test binary
)

// createMu serialises CREATE DATABASE: copying a template needs it to have no other
// sessions, so two copies at once could make each other fail.
var createMu sync.Mutex

// migrateTemplate creates and migrates the template the first time a test needs it; its
// error is kept, so that every later test fails with the same cause.
var migrateTemplate = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := adminPool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{tmplName}.Sanitize()); err != nil {
		return fmt.Errorf("pgtest: create template: %w", err)
	}
	// Migrate closes its connection before returning, so the template is free to copy.
	if err := database.Migrate(ctx, withDatabase(adminURL, tmplName)); err != nil {
		return fmt.Errorf("pgtest: migrate template: %w", err)
	}
	return nil
})

// Main runs a package's tests with one private cluster for the whole test binary, and stops
// it afterwards, so that each package's tests get a real PostgreSQL without any setup. Use:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// When TEST_DATABASE_URL is set (a superuser URL), that server is used instead. When no
// server can be had, Main prints why and exits 1: database tests never skip silently.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adminURL = os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		dir, err := pgstart.TempDir()
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(dir)
		cluster, err := pgstart.Start(ctx, dir, pgstart.Options{Fast: true})
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}()
		adminURL = cluster.URL("postgres")
	}
	var err error
	if adminPool, err = pgxpool.New(ctx, adminURL); err != nil {
		return fail(err)
	}
	defer adminPool.Close()
	tmplName = "t_tmpl_" + randomSuffix()
	defer dropDatabase(tmplName)
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "pgtest: no database server for the tests:", err)
	return 1
}

// NewDatabase creates a fresh, migrated database for one test and drops it at t.Cleanup,
// so that tests can run in parallel without seeing each other's rows. It returns the
// application pool (database.Open, which works as the restricted role registry_app) and the
// owner URL (superuser, for tests that need it, e.g. to prove the application role cannot
// do something). The package's TestMain must call Main.
func NewDatabase(t testing.TB) (pool *pgxpool.Pool, ownerURL string) {
	t.Helper()
	if adminPool == nil {
		t.Fatal("pgtest: NewDatabase needs `func TestMain(m *testing.M) { pgtest.Main(m) }` in the package")
	}
	if err := migrateTemplate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := databaseName(t.Name())
	createMu.Lock()
	_, err := adminPool.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{tmplName}.Sanitize()))
	createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(name); err != nil {
			t.Error(err)
		}
	})
	ownerURL = withDatabase(adminURL, name)
	pool, err = database.Open(ctx, ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // cleanups run last-in first-out: closed before the drop
	return pool, ownerURL
}

// dropDatabase drops name, ending any sessions a test left open.
func dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := adminPool.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

// databaseName turns a test name into a unique database name of at most 63 bytes (longer
// identifiers are truncated by the server): "t_", the test name in [a-z0-9_], a random
// suffix.
func databaseName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else if s := b.String(); s != "" && !strings.HasSuffix(s, "_") {
			b.WriteByte('_')
		}
	}
	suffix := "_" + randomSuffix()
	base := strings.Trim(b.String(), "_")
	base = base[:min(len(base), 63-len("t_")-len(suffix))]
	return "t_" + base + suffix
}

func randomSuffix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withDatabase returns connStr with its database replaced by name, for both URL and
// keyword/value connection strings (in the latter a repeated keyword wins).
func withDatabase(connStr, name string) string {
	if strings.HasPrefix(connStr, "postgres://") || strings.HasPrefix(connStr, "postgresql://") {
		if u, err := url.Parse(connStr); err == nil {
			u.Path, u.RawPath = "/"+name, ""
			return u.String()
		}
	}
	return connStr + " dbname=" + name
}
