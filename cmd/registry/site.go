package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/civictech/registry/internal/server"
	"github.com/civictech/registry/internal/site"
)

// siteCommand runs `registry site DIR [--base-url URL]`: the public register as static files,
// rendered by the register's own handler in-process (see package site).
func siteCommand(ctx context.Context, env environment, args []string) error {
	c, dir, err := siteArgs(env, args)
	if err != nil {
		return err
	}
	live := strings.TrimRight(c.baseURL, "/")
	// The handler needs an address for its feeds and its log even without a live register:
	// the one `serve` would use, so that the log keeps its name.
	origin := live
	if origin == "" {
		origin = "http://" + envOr("REGISTRY_ADDR", "127.0.0.1:8080")
	}
	start := time.Now()
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := openDatabase(ctx, c, log)
	if err != nil {
		return err
	}
	defer d.Close()
	logKey, err := loadLogKey(c.dataDir, strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")+"/log")
	if err != nil {
		return fmt.Errorf("transparency log key: %w", err)
	}
	// The site has no sessions and no second factors: keys for this run only, rather than
	// the server's.
	sessionKey, secretsKey := make([]byte, 64), make([]byte, 32)
	_, _ = rand.Read(sessionKey)
	_, _ = rand.Read(secretsKey)
	srv, err := server.New(server.Config{BaseURL: origin, SessionKey: sessionKey, SecretsKey: secretsKey, LogKey: logKey,
		Publisher: publisherFromEnv(), PublicAPIRateLimit: -1}, d.pool, log)
	if err != nil {
		return err
	}
	stats, err := site.Build(ctx, dir, site.Options{Handler: srv.Handler(), Origin: origin, Live: live})
	if err != nil {
		return err
	}
	for _, m := range stats.Missing {
		fmt.Fprintf(env.stderr, "registry site: a page links to %s, which is not found; the link was removed\n", m)
	}
	fmt.Fprintf(env.stdout, "site: %d pages, %d files, %s in %s (%s)\n", stats.Pages, stats.Files,
		humanBytes(stats.Bytes), dir, time.Since(start).Round(time.Millisecond))
	if live == "" && stats.Removed > 0 {
		fmt.Fprintf(env.stdout, "site: %d links to search, forms and sign-in removed; give --base-url to link them to the running register\n", stats.Removed)
	}
	return nil
}

// siteArgs reads the directory and the flags; the directory comes first, flags after it
// (registry site DIR --base-url U), or the other way.
func siteArgs(env environment, args []string) (config, string, error) {
	c := config{share: true}
	set := newFlagSet("site", env.stderr)
	c.flags(set)
	set.StringVar(&c.baseURL, "base-url", envOr("REGISTRY_BASE_URL", ""),
		"public address of the running register: search, forms and sign-in link there (unset: they are left out)")
	var dir string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		dir, args = args[0], args[1:]
	}
	if err := set.Parse(args); err != nil {
		return c, "", usageError(err.Error())
	}
	if dir == "" && set.NArg() == 1 {
		dir = set.Arg(0)
	} else if set.NArg() > 0 {
		return c, "", usageError("registry site: one directory")
	}
	if dir == "" {
		return c, "", usageError("usage: registry site DIR [--base-url URL]")
	}
	if c.baseURL != "" {
		if u, err := url.Parse(c.baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, "", usageError("registry site: --base-url must be an http(s) address, e.g. https://algorismes.example.cat")
		}
	}
	return c, dir, nil
}

// humanBytes writes a size for people.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
