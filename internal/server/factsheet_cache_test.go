package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/review"
)

// TestFactSheetCacheFollowsChanges: fact sheets are cached under their address, without
// asking the database on a hit; the very next request after a publication, a rename or an
// unpublishing on this instance serves the change, and older revisions keep theirs.
func TestFactSheetCacheFollowsChanges(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	rev := publishDemo(t, app, "risc-caiguda-arbrat")
	c := app.client()
	path := "/ca/algorithms/risc-caiguda-arbrat"
	first := c.get(path)
	expectStatus(t, first, http.StatusOK)
	if again := c.get(path); again.body != first.body || again.Header.Get("ETag") != first.Header.Get("ETag") {
		t.Fatal("the cached fact sheet differs from the first one served")
	}

	publish := func(change func(*algorithms.FactSheet)) { t.Helper(); publishChange(t, app, rev, change) }

	// The entry's other pages, cached by address too (a second request is a cache hit).
	for _, page := range []string{"/versions", "/feed.atom", "/diff/1..1"} {
		expectStatus(t, c.get(path+page), http.StatusOK)
		expectStatus(t, c.get(path+page), http.StatusOK)
	}

	// A new revision: served at once, no waiting for a notification.
	publish(func(s *algorithms.FactSheet) {
		s.DescriptionShort = algorithms.Text{"ca": "Descripció nova i inconfusible de la segona revisió."}
	})
	second := c.get(path)
	mustContain(t, "the latest fact sheet after a publication", second.body, "inconfusible")
	if second.Header.Get("ETag") == first.Header.Get("ETag") {
		t.Error("the new revision kept the old page's ETag")
	}
	mustNotContain(t, "revision 1 after a publication", c.get(path+"/versions/1").body, "inconfusible")
	mustContain(t, "revision 2", c.get(path+"/versions/2").body, "inconfusible")
	mustContain(t, "the history after a publication", c.get(path+"/versions").body, `href="/ca/algorithms/risc-caiguda-arbrat/versions/2"`)
	if feed := c.get(path + "/feed.atom").body; strings.Count(feed, "<entry>") != 2 {
		t.Errorf("the entry's feed after a publication has %d entries, want 2", strings.Count(feed, "<entry>"))
	}
	expectStatus(t, c.get(path+"/diff/1..2"), http.StatusOK)

	// Browsers get the cached page compressed, the same page once decompressed. (Setting
	// Accept-Encoding stops the client from decompressing it silently.)
	req, _ := http.NewRequest(http.MethodGet, app.http.URL+path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	zipped := c.do(req)
	expectStatus(t, zipped, http.StatusOK)
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", zipped.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, []byte(second.body)) {
		t.Error("the compressed fact sheet is not the fact sheet")
	}

	// A rename: the new address serves the entry, the old one redirects to it, at once.
	publish(func(s *algorithms.FactSheet) { s.Name = algorithms.Text{"ca": "Model de risc de l'arbrat viari"} })
	moved := c.get(path)
	if moved.StatusCode != http.StatusMovedPermanently || moved.Header.Get("Location") != "/ca/algorithms/model-de-risc-de-larbrat-viari" {
		t.Fatalf("the old address after a rename: %d to %q", moved.StatusCode, moved.Header.Get("Location"))
	}
	mustContain(t, "the new address", c.get(moved.Header.Get("Location")).body, "Model de risc de l&#39;arbrat viari")
	for _, page := range []string{"/versions", "/feed.atom", "/diff/1..2"} {
		expectStatus(t, c.get("/ca/algorithms/model-de-risc-de-larbrat-viari"+page), http.StatusOK)
		if old := c.get(path + page); old.StatusCode != http.StatusMovedPermanently {
			t.Errorf("%s at the old address after a rename: status %d, want 301", page, old.StatusCode)
		}
	}

	// Unpublished: the tombstone, at once, at every address that served a page.
	admin := app.user("admin@example.org", auth.RoleAdmin)
	if err := app.srv.Review().Unpublish(ctx, rev.AlgorithmID, "Revisió d'una queixa.",
		review.Actor{UserID: admin.ID, Email: admin.Email, Roles: admin.Roles}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, c.get(moved.Header.Get("Location")), http.StatusGone)
	expectStatus(t, c.get("/ca/algorithms/model-de-risc-de-larbrat-viari/versions/2"), http.StatusGone)
	for _, page := range []string{"/versions", "/feed.atom", "/diff/1..2"} {
		expectStatus(t, c.get("/ca/algorithms/model-de-risc-de-larbrat-viari"+page), http.StatusGone)
	}
}

// TestPublicHead: every public GET address answers HEAD with the headers of its GET and no
// body; /ca sends on to /ca/.
func TestPublicHead(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	publishDemo(t, app, "risc-caiguda-arbrat")
	c := app.bareClient()
	entry := "/es/algorithms/risc-caiguda-arbrat"
	for _, path := range []string{
		"/en/", "/ca/algorithms", "/es/algorithms?q=arbrat", entry, entry + ".md", entry + "/versions",
		entry + "/versions/1", entry + "/diff/1..1", entry + "/feed.atom", entry + "/feedback",
		"/en/feed.atom", "/ca/log", "/api/v1/algorithms", "/static/site.css",
	} {
		// The same Accept-Encoding for both: Go's client asks for gzip on GET, not on HEAD.
		ask := func(method string) *response {
			req, _ := http.NewRequest(method, app.http.URL+path, nil)
			req.Header.Set("Accept-Encoding", "identity")
			return c.do(req)
		}
		get := ask(http.MethodGet)
		expectStatus(t, get, http.StatusOK)
		head := ask(http.MethodHead)
		if head.StatusCode != http.StatusOK || head.body != "" {
			t.Errorf("HEAD %s: status %d, %d bytes of body; want 200 and none", path, head.StatusCode, len(head.body))
			continue
		}
		for _, name := range []string{"Content-Type", "ETag"} {
			if got, want := head.Header.Get(name), get.Header.Get(name); got != want {
				t.Errorf("HEAD %s: %s %q, GET said %q", path, name, got, want)
			}
		}
	}
	res := c.get("/ca")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/ca/" {
		t.Errorf("/ca: %d to %q, want 301 to /ca/", res.StatusCode, res.Header.Get("Location"))
	}
}
