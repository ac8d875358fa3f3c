package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/apidoc"
	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/notify"
	"github.com/civictech/registry/internal/server"
	"github.com/civictech/registry/internal/web"
)

// serveGCPercent is the garbage collector's pace while serving, unless GOGC says otherwise.
// The server keeps about 25 MB of live heap (templates, catalogue, caches, pools); at Go's
// default of 100 the collector marks it again every 25 MB allocated, about four times a
// second under load, and took 8 % of the processor time serving cached fact sheets (perf,
// bench/run.sh). At 400 it runs a quarter as often, for about 95 MB more memory (measured:
// resident 92 → 186 MB, 38 → 10 collections in 10 s of wrk on the demo data).
const serveGCPercent = 400

// profileCPU starts writing a CPU profile to path and returns what stops it.
func profileCPU(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func serve(ctx context.Context, env environment, args []string) error {
	var c config
	set := newFlagSet("serve", env.stderr)
	c.flags(set)
	set.StringVar(&c.addr, "addr", envOr("REGISTRY_ADDR", "127.0.0.1:8080"), "listen address")
	set.StringVar(&c.baseURL, "base-url", envOr("REGISTRY_BASE_URL", ""), "public address of the register")
	set.StringVar(&c.smtpURL, "smtp-url", os.Getenv("REGISTRY_SMTP_URL"), "mail server, smtp://user:pass@host:port?from=… (unset: mail goes to the log)")
	replicaURL := set.String("replica-url", os.Getenv("DATABASE_REPLICA_URL"), "a streaming replica of the database, for public reads (unset: the primary)")
	demo := set.Bool("demo", false, "seed demo accounts and entries into an empty database and print the logins")
	cpuProfile := set.String("cpu-profile", "", "write a CPU profile of the whole run to this file (for cmd/registry/default.pgo)")
	if err := set.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if *cpuProfile != "" {
		stop, err := profileCPU(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	log := slog.New(slog.NewTextHandler(env.stderr, nil))

	d, err := openDatabase(ctx, c, log)
	if err != nil {
		return err
	}
	defer d.Close()
	key, err := loadKey(c.dataDir, "session.key", 64)
	if err != nil {
		return fmt.Errorf("session key: %w", err)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	if c.baseURL == "" {
		c.baseURL = "http://" + ln.Addr().String()
	}
	logKey, err := loadLogKey(c.dataDir, strings.TrimPrefix(strings.TrimPrefix(c.baseURL, "https://"), "http://")+"/log")
	if err != nil {
		ln.Close()
		return fmt.Errorf("transparency log key: %w", err)
	}
	secrets, err := loadKey(c.dataDir, secretsKeyFile, 32)
	if err != nil {
		ln.Close()
		return fmt.Errorf("secrets key: %w", err)
	}
	var replica *pgxpool.Pool
	if *replicaURL != "" {
		// Not fatal when unreachable: the public side reads from the primary until the
		// replica answers (database.Reads); a bad URL is.
		if replica, err = database.OpenLazily(*replicaURL); err != nil {
			ln.Close()
			return fmt.Errorf("DATABASE_REPLICA_URL: %w", err)
		}
		defer replica.Close()
	}
	publisher := publisherFromEnv()
	srv, err := server.New(server.Config{BaseURL: c.baseURL, SessionKey: key, SecretsKey: secrets[:32], LogKey: logKey,
		Publisher: publisher, ReadReplica: replica}, d.pool, log)
	if err != nil {
		ln.Close()
		return err
	}
	if publisher.ContactEmail == apidoc.PlaceholderEmail {
		log.Warn("REGISTRY_CONTACT_EMAIL is not set: the open data catalogue names a placeholder contact address",
			slog.String("contact_email", apidoc.PlaceholderEmail))
	}
	if n, err := srv.Auth().SealStoredTOTP(ctx); err != nil {
		ln.Close()
		return err
	} else if n > 0 {
		log.Info("sealed second-factor secrets stored in the clear", slog.Int("accounts", n))
	}
	if *demo {
		if err := seedDemo(ctx, env, srv); err != nil {
			ln.Close()
			return err
		}
	}
	httpServer := web.NewHTTPServer(srv.Handler(), slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	sender, err := notify.SenderFromURL(c.smtpURL, log)
	if err != nil {
		ln.Close()
		return fmt.Errorf("REGISTRY_SMTP_URL: %w", err)
	}
	background, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	go srv.RunMaintenance(background, time.Hour)
	go srv.RunCacheListener(background)
	go srv.RunReplicaCheck(background)
	mailer := &notify.Worker{DB: d.pool, Sender: sender, Log: log}
	go mailer.Run(background)

	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(web.OneWriteListener(ln)) }()
	fmt.Fprintf(env.stdout, "registry: serving on %s\n", c.baseURL)
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("base_url", c.baseURL))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
