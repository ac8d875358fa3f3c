package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/pgtest"
)

// The benchmarks measure the cost of one request inside the process, through the whole
// handler (middleware, routing, cache), without the network: bench/run.sh measures the
// same pages over HTTP against nginx; BenchmarkSearch (search_test.go) measures searches.
// Run them with
//
//	go test -run '^$' -bench . -benchmem ./internal/server/
//
// and profile with -cpuprofile cpu.out (then `go tool pprof -top cpu.out`).

// benchEntries is how many synthetic entries the benchmarks' database holds: enough for
// the indexes to matter, few enough to seed in seconds.
const benchEntries = 300

// benchApp returns the application on a fresh database with benchEntries published
// entries, and the slug of one of them.
func benchApp(b *testing.B) (http.Handler, string) {
	b.Helper()
	pool, _ := pgtest.NewDatabase(b)
	srv, err := New(Config{BaseURL: "http://127.0.0.1", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))}, pool,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	u, err := srv.Auth().CreateUser(ctx, auth.NewUser{Email: "synthetic@example.org", Name: "Synthetic",
		Roles: []string{auth.RoleAuthor}, Password: testPassword}, auth.Actor{Email: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Algorithms().SeedSynthetic(ctx, benchEntries, algorithms.Actor{UserID: u.ID, Email: u.Email}); err != nil {
		b.Fatal(err)
	}
	var slug string
	if err := pool.QueryRow(ctx, `SELECT slug FROM algorithms ORDER BY slug LIMIT 1`).Scan(&slug); err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), slug
}

// serve runs GET path through h, with the given request headers, in parallel on every
// processor, and fails unless each answer has status want.
func serve(b *testing.B, h http.Handler, path string, want int, headers ...string) {
	b.Helper()
	probe := httptest.NewRecorder()
	h.ServeHTTP(probe, httptest.NewRequest(http.MethodGet, path, nil)) // fills the cache
	if probe.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d", path, probe.Code)
	}
	etag := probe.Header().Get("ETag")
	b.ReportAllocs()
	cpu := processorTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], strings.ReplaceAll(headers[i+1], "$etag", etag))
			}
			w := &discardWriter{header: http.Header{}}
			h.ServeHTTP(w, req)
			if w.code != want {
				b.Errorf("GET %s: status %d, want %d", path, w.code, want)
				return
			}
		}
	})
	b.StopTimer()
	// Processor time, unlike ns/op, does not grow when other work shares the machine.
	b.ReportMetric(float64(processorTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// processorTime is the processor time the process has used (user and system), in nanoseconds.
func processorTime() int64 {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return u.Utime.Nano() + u.Stime.Nano()
}

// BenchmarkFactSheet is the cached fact sheet of the latest revision, the register's
// most read page.
func BenchmarkFactSheet(b *testing.B) {
	h, slug := benchApp(b)
	serve(b, h, "/ca/algorithms/"+slug, http.StatusOK)
}

// BenchmarkFactSheetNotModified is a revisit: the browser sends the ETag it kept.
func BenchmarkFactSheetNotModified(b *testing.B) {
	h, slug := benchApp(b)
	serve(b, h, "/ca/algorithms/"+slug, http.StatusNotModified, "If-None-Match", "$etag")
}

// BenchmarkFactSheetGzip is the fact sheet as browsers ask for it, compressed.
func BenchmarkFactSheetGzip(b *testing.B) {
	h, slug := benchApp(b)
	serve(b, h, "/ca/algorithms/"+slug, http.StatusOK, "Accept-Encoding", "gzip, deflate, br, zstd")
}

// BenchmarkFactSheetMarkdown is the same fact sheet as Markdown.
func BenchmarkFactSheetMarkdown(b *testing.B) {
	h, slug := benchApp(b)
	serve(b, h, "/ca/algorithms/"+slug+".md", http.StatusOK)
}

// discardWriter is a ResponseWriter that keeps only the status: unlike httptest's recorder,
// it costs what a connection's writer costs the handler, nothing more.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}
