package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/review"
)

// seedDemo drives the demo entries through the workflow, as `serve --demo` does, and returns
// the staff who did it.
func (a *testApp) seedDemo() demo.Staff {
	a.t.Helper()
	staff := demo.Staff{Authors: map[string]algorithms.Actor{}}
	for _, email := range []string{demo.Author, demo.Author2} {
		u := a.user(email, auth.RoleAuthor)
		staff.Authors[email] = algorithms.Actor{UserID: u.ID, Email: u.Email}
	}
	r := a.user("reviewer@demo.example", auth.RoleReviewer)
	staff.Reviewer = review.Actor{UserID: r.ID, Email: r.Email, Roles: r.Roles}
	e := a.user("expert@demo.example", auth.RoleExpert)
	staff.Expert = review.Actor{UserID: e.ID, Email: e.Email, Roles: e.Roles}
	if _, err := demo.Seed(context.Background(), a.srv.Algorithms(), a.srv.Review(), staff); err != nil {
		a.t.Fatal(err)
	}
	return staff
}

// mustContain fails unless body has every one of want.
func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s contains %q", what, w)
		}
	}
}

func TestIndexPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	staff := app.seedDemo()
	if err := app.srv.Algorithms().SeedSynthetic(context.Background(), 30, staff.Authors[demo.Author]); err != nil {
		t.Fatal(err)
	}
	c := app.client()

	// The first of three pages (41 entries): a labelled search landmark, the filters in a
	// fieldset, the count in the results heading, pagination with rel links and aria-current.
	res := c.get("/en/algorithms")
	expectStatus(t, res, http.StatusOK)
	// A department is filtered by its name in the entry's language and shown in the page's.
	mustContain(t, "the department filter", res.body,
		`<option value="Direcció d&#39;Atenció Ciutadana i Institut Municipal d&#39;Informàtica (IMI)">Citizen Services Directorate and Municipal Institute of Information Technology (IMI) (1)</option>`)
	mustContain(t, "index", res.body,
		`role="search" aria-label="Search the register"`, `<fieldset class="search-filters">`, `<legend>Filter and sort</legend>`,
		`<h2 id="results-title">41 results</h2>`, `<nav aria-label="Pages of results"`,
		`<link rel="next" href="/en/algorithms?page=2">`, `href="/en/algorithms?page=2" rel="next"`,
		`<a href="/en/algorithms" aria-current="page">`, `<label for="f-risk">EU AI Act tier</label>`,
		`hreflang="ca" href="/ca/algorithms"`)
	mustNotContain(t, "page 1", res.body, `rel="prev"`)
	if n := strings.Count(res.body, `<li class="result">`); n != 20 {
		t.Errorf("page 1 shows %d results", n)
	}
	res = c.get("/en/algorithms?page=3")
	mustContain(t, "page 3", res.body, `<link rel="prev" href="/en/algorithms?page=2">`, `href="/en/algorithms?page=3" aria-current="page"`)
	mustNotContain(t, "page 3", res.body, `rel="next"`)
	if n := strings.Count(res.body, `<li class="result">`); n != 1 {
		t.Errorf("page 3 shows %d results", n)
	}

	// Facet counts in the options agree with the index.
	results, err := app.srv.public.Search.Search(context.Background(), searchQuery("risk=high+risk"))
	if err != nil {
		t.Fatal(err)
	}
	res = c.get("/en/algorithms?risk=high+risk")
	mustContain(t, "risk filter", res.body, fmt.Sprintf(`<h2 id="results-title">%d results</h2>`, results.Total),
		fmt.Sprintf(`<option value="high risk" selected>high risk (%d)</option>`, results.Total),
		`<a href="/en/algorithms">Clear the search and filters</a>`)

	// A misspelt search finds the entry, with a link to its fact sheet.
	res = c.get("/en/algorithms?q=housholds")
	mustContain(t, "typo search", res.body, `1 result for “housholds”`, `href="/en/algorithms/deteccio-pobresa-energetica"`,
		`<option value="relevance" selected>Best match</option>`)
	// A fallback is marked: the retired pilot has no English name.
	res = c.get("/en/algorithms?q=carrega+descarrega")
	mustContain(t, "fallback", res.body, `lang="ca">Pilot de comptatge`, `(in Catalan)`)
	// In Catalan.
	res = c.get("/ca/algorithms?q=pobresa+energetica")
	mustContain(t, "Catalan", res.body, `<html lang="ca">`, `1 resultat per a «pobresa energetica»`)

	// No results: a clear message and a way back.
	res = c.get("/en/algorithms?q=zorblaxquatch&risk=high+risk")
	expectStatus(t, res, http.StatusOK)
	mustContain(t, "no results", res.body, `0 results for “zorblaxquatch”`, "No published algorithm matches your search.",
		"Remove a filter.", `<a href="/en/algorithms">See every algorithm in the register</a>`)

	// Hostile or broken input is escaped or ignored, never a server error.
	for _, q := range []string{
		"q=" + url.QueryEscape(`<script>alert(1)</script>"'`),
		"department=" + url.QueryEscape(`<b onmouseover=x>`),
		"page=-1", "page=abc", "page=99999999999999999999", "risk=severe", "sort=1;DROP+TABLE+revisions",
		"q=" + strings.Repeat("a%C3%A9", 5000), "q=%22%22%22", "q=-", "q=or+and+not", "status=retired&status=pilot",
		"q=" + url.QueryEscape("!@#$%^&*():*|'"),
	} {
		res := c.get("/en/algorithms?" + q)
		expectStatus(t, res, http.StatusOK)
		mustNotContain(t, q, res.body, "<script>alert", "<b onmouseover")
	}
	res = c.get("/en/algorithms?q=" + url.QueryEscape(`<script>alert(1)</script>`))
	mustContain(t, "escaped query", res.body, `value="&lt;script&gt;alert(1)&lt;/script&gt;"`)
}

// searchQuery parses raw as the English index page would.
func searchQuery(raw string) publish.Query {
	v, _ := url.ParseQuery(raw)
	return publish.ParseQuery(v, i18n.English)
}

func TestHomePage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	staff := app.seedDemo()
	ctx := context.Background()
	c := app.client()

	res := c.get("/en/")
	expectStatus(t, res, http.StatusOK)
	mustContain(t, "home", res.body, "11 published algorithms", `role="search"`, `action="/en/algorithms"`,
		`href="/en/algorithms?risk=high%20risk">high risk</a>: <strong>2</strong>`, `href="/en/log"`, `href="/api/openapi.json"`,
		`<h2 id="latest-title">Latest changes</h2>`)
	if n := strings.Count(res.body, `<span class="badge`); n != 5 {
		t.Errorf("latest changes lists %d entries, want 5", n)
	}
	etag := res.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, app.http.URL+"/en/", nil)
	req.Header.Set("If-None-Match", etag)
	if res := c.do(req); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", res.StatusCode)
	}

	// A new revision in review, with a word of its own, shows nowhere yet.
	owner := staff.Authors[demo.Author2]
	alg, err := app.srv.Algorithms().BySlug(ctx, "risc-caiguda-arbrat")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := app.srv.Algorithms().NewRevision(ctx, alg.ID, owner)
	if err != nil {
		t.Fatal(err)
	}
	sheet := rev.Sheet
	sheet.Name = algorithms.Text{"ca": "Quokkamatic de l'arbrat", "en": "Quokkamatic street-tree model"}
	if rev, err = app.srv.Algorithms().SaveSheet(ctx, rev.ID, rev.Version, sheet, owner); err != nil {
		t.Fatal(err)
	}
	if err := app.srv.Review().Submit(ctx, rev.ID, review.Actor{UserID: owner.UserID, Email: owner.Email}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/en/", "/en/algorithms", "/en/algorithms?q=quokkamatic", "/ca/algorithms?q=quokamatic"} {
		mustNotContain(t, path, c.get(path).body, "Quokkamatic")
	}

	// Its publication changes the home page at once: the cached page is dropped.
	if _, err := app.srv.Review().Decide(ctx, rev.ID, review.Decision{Action: review.Approve, Rationale: "Fine."}, staff.Reviewer); err != nil {
		t.Fatal(err)
	}
	res = c.get("/en/")
	if res.Header.Get("ETag") == etag {
		t.Error("home page unchanged after a publication")
	}
	if !regexp.MustCompile(`(?s)Updated</span>\s*<a href="/en/algorithms/[a-z-]+">Quokkamatic street-tree model</a>.*Revision 2`).MatchString(res.body) {
		t.Errorf("latest changes lack the new revision:\n%s", res.body)
	}
	mustContain(t, "search after publication", c.get("/en/algorithms?q=quokkamatic").body, "1 result for")

	// An emergency unpublish takes it off the home page, the counts and the index.
	admin := app.user("admin@example.org", auth.RoleAdmin)
	if err := app.srv.Review().Unpublish(ctx, alg.ID, "Checking a complaint.", review.Actor{UserID: admin.ID, Email: admin.Email,
		Roles: admin.Roles}); err != nil {
		t.Fatal(err)
	}
	res = c.get("/en/")
	mustContain(t, "home after unpublish", res.body, "10 published algorithms")
	mustNotContain(t, "home after unpublish", res.body, "Quokkamatic")
	mustContain(t, "index after unpublish", c.get("/en/algorithms?q=quokkamatic").body, "0 results for")
}

// BenchmarkSearch measures index page requests end to end (HTTP, routing, the search and
// facet queries, rendering) over 10,000 published entries.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	pool, ownerURL := pgtest.NewDatabase(b)
	srv, err := New(Config{BaseURL: "http://127.0.0.1", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))}, pool,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	u, err := srv.Auth().CreateUser(ctx, auth.NewUser{Email: "author@example.org", Name: "Author", Roles: []string{auth.RoleAuthor},
		Password: testPassword}, auth.Actor{Email: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Algorithms().SeedSynthetic(ctx, 10000, algorithms.Actor{UserID: u.ID, Email: u.Email}); err != nil {
		b.Fatal(err)
	}
	// As autovacuum would, soon after a bulk load: the planner needs statistics.
	if conn, err := pgx.Connect(ctx, ownerURL); err != nil {
		b.Fatal(err)
	} else {
		_, err = conn.Exec(ctx, "VACUUM ANALYZE")
		conn.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := hs.Client()
	get := func(path string) error {
		res, err := client.Get(hs.URL + path)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d", path, res.StatusCode)
		}
		return nil
	}
	paths := []string{
		"/ca/algorithms?q=aigua",
		"/es/algorithms?q=recogida+de+residuos&status=operational",
		"/en/algorithms?q=enviromental+noise",
		"/en/algorithms?q=housing&risk=high+risk&page=2",
		"/es/algorithms?status=operational&sort=name&page=37",
		"/ca/algorithms", // the landing page of the index, cached
	}
	for _, p := range paths {
		b.Run(strings.TrimPrefix(p, "/"), func(b *testing.B) {
			for b.Loop() {
				if err := get(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parallel-mix", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := get(paths[i%len(paths)]); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}
