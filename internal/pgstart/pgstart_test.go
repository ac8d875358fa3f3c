package pgstart

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tempDir is TempDir, removed when the test ends.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := TempDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	c, err := Start(ctx, dir, Options{Fast: true, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	return conn
}

// TestStartStopRestart proves the whole life cycle: a new cluster accepts connections,
// refuses a second server on the same data, keeps its data across a restart, and can be
// stopped twice.
func TestStartStopRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := tempDir(t)
	c := start(t, dir)
	conn := connect(t, c)
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "PostgreSQL 15") {
		t.Errorf("version() = %q, want PostgreSQL 15", version)
	}
	var listen string
	if err := conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil || listen != "" {
		t.Errorf("listen_addresses = %q (err %v), want none", listen, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, dir, Options{}); err == nil || !strings.Contains(err.Error(), "another registry") {
		t.Errorf("second Start on a running dir: err = %v, want 'another registry ...'", err)
	}
	shared, err := Start(ctx, dir, Options{Share: true})
	if err != nil {
		t.Fatalf("Start with Share on a running dir: %v", err)
	}
	if err := connect(t, shared).Ping(ctx); err != nil {
		t.Fatalf("shared cluster unreachable: %v", err)
	}
	if err := shared.Stop(); err != nil {
		t.Fatalf("Stop of a shared cluster: %v", err)
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("stopping a shared handle stopped the server: %v", err)
	}
	_ = conn.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	c = start(t, dir)
	var v string
	if err := connect(t, c).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "still here" {
		t.Fatalf("after restart: v = %q, err = %v", v, err)
	}
}

// TestStandby proves that StandbyOf makes a read-only copy that follows its primary.
func TestStandby(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	primary := start(t, tempDir(t))
	if _, err := connect(t, primary).Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')"); err != nil {
		t.Fatal(err)
	}
	standby, err := Start(ctx, tempDir(t), Options{Fast: true, StandbyOf: primary})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Stop() })
	conn := connect(t, standby)
	var inRecovery bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("standby: pg_is_in_recovery() = %v (err %v), want true", inRecovery, err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO kept VALUES ('written to the standby')"); err == nil {
		t.Error("the standby accepted a write")
	}
	if _, err := connect(t, primary).Exec(ctx, "INSERT INTO kept VALUES ('after')"); err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM kept").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the standby has %d rows, want 2: it does not follow its primary", n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestLongDirUsesShortSocket proves that a data directory too deep for a Unix socket path
// still works, through a temporary socket directory that Stop removes.
func TestLongDirUsesShortSocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(tempDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	c := start(t, dir)
	if !strings.HasPrefix(c.sockDir, os.TempDir()) || !c.tempSock {
		t.Fatalf("socket dir = %s, want a temporary one", c.sockDir)
	}
	var one int
	if err := connect(t, c).QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.sockDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket dir %s left behind: %v", c.sockDir, err)
	}
}

// TestStartFailureQuotesLog proves that when the server will not start, the error carries
// the end of postgres.log, where the reason is.
func TestStartFailureQuotesLog(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	if err := start(t, dir).Stop(); err != nil {
		t.Fatal(err)
	}
	conf, err := os.OpenFile(filepath.Join(dir, "pgdata", "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conf.WriteString("shared_buffers = 'not a size'\n")
	if err := errors.Join(err, conf.Close()); err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Fatalf("err = %v, want one quoting the log", err)
	}
	t.Logf("as reported: %v", err)
}

// TestNotInstalled proves that missing programs yield ErrNotInstalled with a one-line hint.
func TestNotInstalled(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PG_BINDIR", empty)
	_, err := Start(context.Background(), t.TempDir(), Options{})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	msg := err.Error()
	for _, want := range []string{empty, "apt-get install postgresql-15", "DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message spans lines: %q", msg)
	}
}

// TestUnenterableParent proves that, as root, a data directory the postgres user cannot
// reach is refused up front with the culprit named.
func TestUnenterableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to another user")
	}
	locked := filepath.Join(tempDir(t), "locked")
	if err := os.Mkdir(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), filepath.Join(locked, "data"), Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+locked) {
		t.Fatalf("err = %v, want one naming %s", err, locked)
	}
}

func TestDSNQuote(t *testing.T) {
	for in, want := range map[string]string{"db": "db", "": "''", "a b": "'a b'", `it's`: `'it\'s'`} {
		if got := dsnQuote(in); got != want {
			t.Errorf("dsnQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
