package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCachedAtKeepsNoPageReadBeforeAnInvalidation: a fact sheet is cached under its
// address, resolved from the database before the build; a page whose resolution an
// invalidation overtook is served to its request but not kept, or the address would
// serve the replaced revision until the next change.
func TestCachedAtKeepsNoPageReadBeforeAnInvalidation(t *testing.T) {
	p := &Public{cache: newPageCache(100)}
	build := func(body string) func(context.Context) (*cachedPage, error) {
		return func(context.Context) (*cachedPage, error) {
			return &cachedPage{algorithmID: "a", body: []byte(body), etag: strongETag([]byte(body))}, nil
		}
	}
	serve := func(key string, gen uint64, body string) string {
		w := httptest.NewRecorder()
		if err := p.cachedAt(w, httptest.NewRequest(http.MethodGet, "/", nil), key, gen, build(body)); err != nil {
			t.Fatal(err)
		}
		return w.Body.String()
	}

	stale := p.generation.Load() // the request reads revision 1 …
	p.Invalidate("a")            // … while revision 2 is published
	if got := serve("fs|old", stale, "revision 1"); got != "revision 1" {
		t.Errorf("the request got %q, want the page it built", got)
	}
	if _, ok := p.cache.get("fs|old"); ok {
		t.Error("a page resolved before an invalidation was cached")
	}

	serve("fs|new", p.generation.Load(), "revision 2")
	if page, ok := p.cache.get("fs|new"); !ok || string(page.body) != "revision 2" {
		t.Error("a page resolved after the last invalidation was not cached")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                               false,
		"gzip":                           true,
		"gzip, deflate, br, zstd":        true, // a browser
		"br;q=1.0, gzip;q=0.8, *;q=0.1":  true,
		"GZIP":                           true,
		"x-gzip":                         true,
		"gzip;q=0":                       false,
		"gzip; q=0.000":                  false,
		"identity":                       false,
		"deflate, br":                    false,
		"gzipx, xgzip":                   false,
		"gzip;level=9":                   true,
		"gzip;q=nonsense":                false,
		"identity;q=1, gzip ; q = 0.5  ": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestServeCachedGzip: a client that accepts gzip gets the page compressed, with its own
// ETag, 304 for that ETag and the compressed length for HEAD; others get the page as built.
func TestServeCachedGzip(t *testing.T) {
	body := []byte(strings.Repeat("<p>Fitxa de l'algorisme, prou llarga per comprimir-se.</p>\n", 100))
	page := &cachedPage{body: body, etag: strongETag(body), contentType: "text/html; charset=utf-8",
		lastModified: "Fri, 27 Nov 2026 07:16:16 GMT"}
	get := func(method string, headers ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/ca/algorithms/x", nil)
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		serveCached(w, r, page)
		return w
	}

	plain := get(http.MethodGet)
	if plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(plain.Body.Bytes(), body) {
		t.Fatal("a client that does not accept gzip did not get the page as built")
	}
	zipped := get(http.MethodGet, "Accept-Encoding", "gzip, deflate, br")
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers %v, want Content-Encoding gzip and Vary Accept-Encoding", zipped.Header())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, body) {
		t.Error("the compressed page does not decompress to the page")
	}
	if zipped.Body.Len() >= len(body) {
		t.Errorf("compressed %d bytes into %d", len(body), zipped.Body.Len())
	}
	etag := zipped.Header().Get("ETag")
	if etag == "" || etag == plain.Header().Get("ETag") {
		t.Errorf("the compressed page's ETag %q must be its own (the page's is %q)", etag, plain.Header().Get("ETag"))
	}
	if res := get(http.MethodGet, "Accept-Encoding", "gzip", "If-None-Match", etag); res.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the compressed page's ETag: status %d, want 304", res.Code)
	}
	if res := get(http.MethodGet, "If-None-Match", etag); res.Code != http.StatusOK {
		t.Errorf("the compressed page's ETag matched the uncompressed page: status %d, want 200", res.Code)
	}
	head := get(http.MethodHead, "Accept-Encoding", "gzip")
	if head.Body.Len() != 0 || head.Header().Get("Content-Length") != zipped.Header().Get("Content-Length") {
		t.Errorf("HEAD: %d bytes of body, Content-Length %q; want none and %q", head.Body.Len(),
			head.Header().Get("Content-Length"), zipped.Header().Get("Content-Length"))
	}
	if first, second := page.gzipped(), page.gzipped(); first != second {
		t.Error("the page was compressed twice")
	}

	// A body that compression would only make longer is sent as it is.
	tiny := &cachedPage{body: []byte("ok"), etag: strongETag([]byte("ok")), contentType: "text/plain"}
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	serveCached(w, r, tiny)
	if w.Header().Get("Content-Encoding") != "" || w.Body.String() != "ok" {
		t.Errorf("a two-byte page: Content-Encoding %q, body %q", w.Header().Get("Content-Encoding"), w.Body.String())
	}
}
