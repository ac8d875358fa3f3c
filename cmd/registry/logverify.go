package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/tlog"
)

// logCommand runs `registry log verify [--url URL] [--key KEY]`: against a register's public
// API, or against the local database when no URL is given.
func logCommand(ctx context.Context, env environment, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError("usage: registry log verify [--url URL] [--key KEY]")
	}
	c := config{share: true}
	set := newFlagSet("log verify", env.stderr)
	c.flags(set)
	remote := set.String("url", "", "base address of the register to verify (default: the local database)")
	key := set.String("key", "", "the log's public key, to pin it (default: the key the register publishes)")
	if err := set.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	var src tlog.Source
	if *remote != "" {
		u, err := url.Parse(*remote)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return usageError("--url must be an http(s) address")
		}
		src = &httpSource{base: strings.TrimRight(*remote, "/"), client: &http.Client{Timeout: 60 * time.Second}}
	} else {
		d, err := openDatabase(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return err
		}
		defer d.Close()
		skey, err := loadLogKey(c.dataDir, "local/log")
		if err != nil {
			return err
		}
		defs, err := risk.Load()
		if err != nil {
			return err
		}
		l, err := tlog.New(d.pool, "local/log", skey)
		if err != nil {
			return err
		}
		src = &localSource{log: l, store: algorithms.NewStore(d.pool, defs)}
	}
	_, err := tlog.Verify(ctx, src, *key, env.stdout)
	if err == nil {
		fmt.Fprintln(env.stdout, "OK: the log is consistent and every published fact sheet is the one recorded")
	}
	return err
}

// localSource reads the log and the fact sheets from this register's database.
type localSource struct {
	log   *tlog.Log
	store *algorithms.Store
}

func (s *localSource) VerifierKey(context.Context) (string, error) { return s.log.VerifierKey(), nil }

func (s *localSource) Checkpoint(ctx context.Context) ([]byte, error) {
	signed, _, err := s.log.Checkpoint(ctx)
	return []byte(signed), err
}

func (s *localSource) Records(ctx context.Context, start int64, limit int) ([]tlog.Entry, error) {
	return s.log.Records(ctx, start, limit)
}

func (s *localSource) FactSheet(ctx context.Context, algorithmID, _ string, revision int) ([]byte, error) {
	alg, err := s.store.Algorithm(ctx, algorithmID)
	if err != nil {
		return nil, err
	}
	if alg.UnpublishedAt != nil {
		return nil, tlog.ErrWithdrawn
	}
	rev, err := s.store.PublishedByNumber(ctx, algorithmID, revision)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rev.Sheet)
}

func (s *localSource) Published(ctx context.Context) ([]tlog.Ref, error) {
	var refs []tlog.Ref
	err := s.store.EachPublished(ctx, algorithms.EachOptions{AllVersions: true}, func(r *algorithms.Record) error {
		refs = append(refs, tlog.Ref{AlgorithmID: r.UUID, Slug: r.Slug, Revision: r.Revision})
		return nil
	})
	return refs, err
}

// httpSource reads the log and the fact sheets from a register's public API.
type httpSource struct {
	base   string
	client *http.Client
}

func (s *httpSource) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusGone {
		res.Body.Close()
		return nil, tlog.ErrWithdrawn
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return res, nil
}

func (s *httpSource) text(ctx context.Context, path string) ([]byte, error) {
	res, err := s.get(ctx, path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(io.LimitReader(res.Body, 1<<20))
}

func (s *httpSource) VerifierKey(ctx context.Context) (string, error) {
	b, err := s.text(ctx, "/log/key")
	return strings.TrimSpace(string(b)), err
}

func (s *httpSource) Checkpoint(ctx context.Context) ([]byte, error) {
	return s.text(ctx, "/log/checkpoint")
}

func (s *httpSource) Records(ctx context.Context, start int64, limit int) ([]tlog.Entry, error) {
	res, err := s.get(ctx, fmt.Sprintf("/api/v1/log/records?start=%d&limit=%d", start, limit))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var body struct {
		Records []tlog.Entry `json:"records"`
	}
	return body.Records, json.NewDecoder(res.Body).Decode(&body)
}

func (s *httpSource) FactSheet(ctx context.Context, _, slug string, revision int) ([]byte, error) {
	res, err := s.get(ctx, fmt.Sprintf("/api/v1/algorithms/%s/versions/%d", url.PathEscape(slug), revision))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var rec algorithms.Record
	if err := json.NewDecoder(res.Body).Decode(&rec); err != nil {
		return nil, err
	}
	return json.Marshal(rec.FactSheet)
}

func (s *httpSource) Published(ctx context.Context) ([]tlog.Ref, error) {
	res, err := s.get(ctx, "/api/v1/export.ndjson?versions=all")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var refs []tlog.Ref
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 1<<20), 16<<20)
	for lines.Scan() {
		var r struct {
			UUID     string `json:"uuid"`
			Slug     string `json:"slug"`
			Revision int    `json:"revision"`
		}
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			return nil, err
		}
		refs = append(refs, tlog.Ref{AlgorithmID: r.UUID, Slug: r.Slug, Revision: r.Revision})
	}
	return refs, lines.Err()
}
