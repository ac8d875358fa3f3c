// Package pgstart runs a private PostgreSQL 15 server for this process, so that the registry
// (and its tests) need no database administrator: the binary initialises a cluster in its
// own data directory on first run, starts it on a Unix socket only, and stops it on exit.
package pgstart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options tune Start.
type Options struct {
	// Logger receives one short line per start and stop; nil discards them.
	Logger *slog.Logger
	// Fast trades crash safety for speed, for tests whose data is thrown away anyway:
	// fsync=off, synchronous_commit=off, full_page_writes=off.
	Fast bool
	// Share connects to a server already running on dir (started by a registry serve) instead
	// of failing; Stop then leaves that server running. For short commands such as
	// "registry user add" run beside the server.
	Share bool
	// StandbyOf makes a new cluster a streaming replica (a read-only hot standby) of that
	// running cluster, copied with pg_basebackup instead of initialised, for tests of
	// reading from a replica. Both must run as the same account.
	StandbyOf *Cluster
}

// ErrInUse is returned (wrapped) when another process's server runs on the data directory.
var ErrInUse = errors.New("another registry seems to be using the data directory")

// Cluster is a PostgreSQL server this process started and will stop. It exists so that the
// caller holds one handle that knows both how to reach the server (URL) and how to shut it
// down (Stop), whatever account the server runs as.
type Cluster struct {
	bin      string // directory holding initdb, pg_ctl and postgres
	dir      string // the directory given to Start, absolute
	data     string // dir/pgdata
	sockDir  string // dir/socket, or a short temporary directory
	tempSock bool   // sockDir was made under os.TempDir() and is removed by Stop
	acct     *account
	log      *slog.Logger

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// port only names the socket file (.s.PGSQL.5432); the server listens on no TCP port, and
// its socket directory is private, so this never clashes with another server.
const port = 5432

// maxSocketPath is the longest Unix socket path the kernel accepts (sun_path is 108 bytes,
// including the terminating NUL).
const maxSocketPath = 107

// logTailLines is how much of postgres.log a failed start quotes.
const logTailLines = 20

// Start initialises (initdb, first run only) and starts a cluster in dir, listening only on
// a Unix socket (listen_addresses is empty: no TCP), and waits until it accepts
// connections. A second Start on the same dir reuses the data. It fails, rather than
// sharing, when a server from another process is already running on dir, since two
// registries on one data directory would be a deployment mistake. dir/pgdata holds the
// cluster, dir/postgres.log its log.
func Start(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, fmt.Errorf("pgstart: %w", err)
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("pgstart: %w", err)
	}
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "pgdata"), acct: acct, log: logger}
	if err := c.prepareDirs(); err != nil {
		c.removeTempSocketDir()
		return nil, err
	}
	if err := c.start(ctx, opts.Fast, opts.StandbyOf); err != nil {
		c.removeTempSocketDir()
		if errors.Is(err, ErrInUse) && opts.Share && !c.tempSock {
			c.stopped = true // not ours to stop
			logger.Info("using the running postgres", "data", c.data)
			return c, nil
		}
		return nil, err
	}
	logger.Info("postgres started", "data", c.data, "socket", c.sockDir, "user", acct.name)
	return c, nil
}

// prepareDirs creates dir, dir/pgdata (0700, as the server insists) and the socket
// directory (0755, so that the client can reach the socket), all owned by the server user.
func (c *Cluster) prepareDirs() error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("pgstart: %w", err)
	}
	if err := c.acct.checkEnterable(c.dir); err != nil {
		return err
	}
	if err := c.acct.own(c.dir); err != nil {
		return err
	}
	if err := c.acct.mkdir(c.data, 0o700); err != nil {
		return err
	}
	c.sockDir = filepath.Join(c.dir, "socket")
	if len(filepath.Join(c.sockDir, fmt.Sprintf(".s.PGSQL.%d", port))) > maxSocketPath {
		d, err := os.MkdirTemp(os.TempDir(), "registry-pg-")
		if err != nil {
			return fmt.Errorf("pgstart: socket directory: %w", err)
		}
		c.sockDir, c.tempSock = d, true
	}
	return c.acct.mkdir(c.sockDir, 0o755)
}

// start runs initdb when the cluster is new, refuses a data directory already in use, and
// starts the server, waiting until it is ready.
func (c *Cluster) start(ctx context.Context, fast bool, standbyOf *Cluster) error {
	if _, err := os.Stat(filepath.Join(c.data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		create := c.initdb
		if standbyOf != nil {
			create = func(ctx context.Context) error { return c.basebackup(ctx, standbyOf) }
		}
		if err := create(ctx); err != nil {
			return err
		}
	}
	// pg_ctl status exits 0 only when a live postmaster owns the data directory; a stale
	// postmaster.pid left by a crash reads as "not running", and the server replaces it.
	if out, err := c.pgctl(ctx, "status", "-D", c.data); err == nil {
		return fmt.Errorf("pgstart: %w %s (pg_ctl status: %s); stop it first", ErrInUse, c.data, strings.TrimSpace(out))
	}
	serverOpts := []string{
		"-k", shellQuote(c.sockDir),
		"-c", "listen_addresses=''",
		"-c", fmt.Sprintf("port=%d", port),
		// Only the server's own account (and root) may connect: with trust authentication,
		// the socket's file mode is what keeps other local users out.
		"-c", "unix_socket_permissions=0700",
		"-c", "max_connections=200",
	}
	if fast {
		serverOpts = append(serverOpts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logFile := filepath.Join(c.dir, "postgres.log")
	out, err := c.pgctl(ctx, "start", "-w", "-t", "60", "-D", c.data, "-l", logFile, "-o", strings.Join(serverOpts, " "))
	if err != nil {
		return fmt.Errorf("pgstart: pg_ctl start: %w\n%s\nlast lines of %s:\n%s", err, out, logFile, tail(logFile, logTailLines))
	}
	return nil
}

// initdb creates the cluster. Trust authentication is safe here because the server listens
// on no TCP address, only on a Unix socket in a directory owned by the server user and with
// mode 0700 on the socket itself, so only that user and root can connect at all.
func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("initialising postgres cluster", "data", c.data)
	args := []string{"-D", c.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8"}
	out, err := c.acct.run(ctx, c.dir, filepath.Join(c.bin, "initdb"), append(args, "--locale=C.UTF-8")...)
	if err == nil {
		return nil
	}
	// C.UTF-8 is missing on some systems; the C locale sorts the same way, byte by byte.
	out2, err2 := c.acct.run(ctx, c.dir, filepath.Join(c.bin, "initdb"), append(args, "--locale=C")...)
	if err2 != nil {
		return fmt.Errorf("pgstart: initdb: %w\n%s\nwith --locale=C.UTF-8 before that: %v\n%s", err2, out2, err, out)
	}
	return nil
}

// basebackup copies the running cluster primary into c's data directory and sets it up as
// primary's standby (-R writes standby.signal and the connection to primary), streaming the
// WAL written during the copy alongside it.
func (c *Cluster) basebackup(ctx context.Context, primary *Cluster) error {
	c.log.Info("copying postgres cluster for a standby", "data", c.data, "primary", primary.data)
	out, err := c.acct.run(ctx, c.dir, filepath.Join(c.bin, "pg_basebackup"),
		"-D", c.data, "-R", "-X", "stream", "-c", "fast", "-d", primary.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgstart: pg_basebackup: %w\n%s", err, out)
	}
	return nil
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) (string, error) {
	return c.acct.run(ctx, c.dir, filepath.Join(c.bin, "pg_ctl"), args...)
}

// URL returns a pgx connection string for the superuser "postgres" and database dbname,
// over the Unix socket.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", dsnQuote(c.sockDir), port, dsnQuote(dbname))
}

// Stop shuts the server down (pg_ctl stop -m fast: open sessions are ended, the data is
// written out) and waits for it. Calling it again returns the first call's result, so that
// both a deferred Stop and an explicit one are fine.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.stopErr
	}
	c.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := c.pgctl(ctx, "stop", "-m", "fast", "-w", "-t", "60", "-D", c.data)
	if err != nil {
		c.stopErr = fmt.Errorf("pgstart: pg_ctl stop: %w\n%s", err, out)
		return c.stopErr
	}
	c.removeTempSocketDir()
	c.log.Info("postgres stopped", "data", c.data)
	return nil
}

func (c *Cluster) removeTempSocketDir() {
	if c.tempSock {
		_ = os.RemoveAll(c.sockDir)
	}
}

// tail returns the last n lines of the file at path, or why it could not be read.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// shellQuote quotes s for the shell through which pg_ctl starts postgres.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dsnQuote quotes a value of a keyword/value connection string when it needs it.
func dsnQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, ` '\`) {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
