package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/review"
)

// newAppWithLimit is newTestApp with the public API's rate limit set (negative: none).
func newAppWithLimit(t *testing.T, perMinute int) *testApp {
	t.Helper()
	pool, ownerURL := pgtest.NewDatabase(t)
	srv, err := New(Config{BaseURL: "http://127.0.0.1", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32)),
		PublicAPIRateLimit: perMinute}, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testApp{t: t, srv: srv, http: hs, pool: pool, ownerURL: ownerURL}
}

// demoStaff creates the demo's accounts and seeds every demo entry through the workflow:
// published, retired, in review, with changes requested and a draft.
func demoStaff(t *testing.T, app *testApp) demo.Staff {
	t.Helper()
	staff := demo.Staff{Authors: map[string]algorithms.Actor{}}
	for _, email := range []string{demo.Author, demo.Author2} {
		u := app.user(email, auth.RoleAuthor)
		staff.Authors[email] = algorithms.Actor{UserID: u.ID, Email: u.Email}
	}
	rev := app.user("reviewer@demo.example", auth.RoleReviewer)
	exp := app.user("expert@demo.example", auth.RoleExpert)
	staff.Reviewer = review.Actor{UserID: rev.ID, Email: rev.Email, Roles: rev.Roles}
	staff.Expert = review.Actor{UserID: exp.ID, Email: exp.Email, Roles: exp.Roles}
	if _, err := demo.Seed(context.Background(), app.srv.Algorithms(), app.srv.Review(), staff); err != nil {
		t.Fatal(err)
	}
	return staff
}

// demoSlugs returns the slugs of the demo entries in the given states, sorted.
func demoSlugs(t *testing.T, states ...string) []string {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if slices.Contains(states, e.State) {
			out = append(out, e.Slug)
		}
	}
	slices.Sort(out)
	return out
}

func decodeJSON[T any](t *testing.T, res *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(res.body), &v); err != nil {
		t.Fatalf("%s %s: %v\n%.600s", res.Request.Method, res.Request.URL, err, res.body)
	}
	return v
}

// unpublishedTexts returns the names and short descriptions, in every language, of the
// demo entries that are never published.
func unpublishedTexts(t *testing.T) []string {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.State == demo.StatePublished || e.State == demo.StateRetired {
			continue
		}
		var sheet algorithms.FactSheet
		if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
			t.Fatal(err)
		}
		for _, text := range []algorithms.Text{sheet.Name, sheet.DescriptionShort} {
			for _, v := range text {
				out = append(out, v)
			}
		}
	}
	if len(out) < 6 {
		t.Fatalf("only %d texts of unpublished entries", len(out))
	}
	return out
}

// indexSlugs returns the entries that the public index finds for q in any language.
func indexSlugs(t *testing.T, c *client, q string) []string {
	t.Helper()
	var out []string
	for _, lang := range i18n.Langs {
		res := c.get("/" + string(lang) + "/algorithms?q=" + url.QueryEscape(q))
		expectStatus(t, res, http.StatusOK)
		for _, m := range resultLink.FindAllStringSubmatch(res.body, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

var resultLink = regexp.MustCompile(`href="/(?:ca|es|en)/algorithms/([a-z0-9-]+)"`)

func slugsOf(items []*algorithms.Record) []string {
	out := []string{}
	for _, r := range items {
		out = append(out, r.Slug)
	}
	return out
}

// walk reads every page of the listing with query, checking each page's size and order,
// and returns the slugs in the order read.
func walk(t *testing.T, c *client, query url.Values, size int) []string {
	t.Helper()
	query.Set("limit", strconv.Itoa(size))
	var all []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the cursor never ends")
		}
		res := c.apiRequest(http.MethodGet, "/api/v1/algorithms?"+query.Encode(), "", nil)
		expectStatus(t, res, http.StatusOK)
		page := decodeJSON[publish.RecordPage](t, res)
		if len(page.Items) > size {
			t.Fatalf("page of %d items, limit %d", len(page.Items), size)
		}
		all = append(all, slugsOf(page.Items)...)
		if page.NextCursor == nil {
			if res.Header.Get("Link") != "" {
				t.Errorf("last page with a Link header %q", res.Header.Get("Link"))
			}
			return all
		}
		if len(page.Items) != size || !strings.Contains(res.Header.Get("Link"), `rel="next"`) {
			t.Fatalf("a page with a next cursor has %d items (limit %d), Link %q", len(page.Items), size, res.Header.Get("Link"))
		}
		query.Set("cursor", *page.NextCursor)
	}
}

func TestPublicAPIList(t *testing.T) {
	t.Parallel()
	app := newAppWithLimit(t, -1)
	demoStaff(t, app)
	c := app.client()
	public := demoSlugs(t, demo.StatePublished, demo.StateRetired)

	// Everything on one page: the latest published revision of each published or retired
	// entry, by slug; nothing in review, sent back or in draft.
	res := c.apiRequest(http.MethodGet, "/api/v1/algorithms", "", nil)
	expectStatus(t, res, http.StatusOK)
	all := decodeJSON[publish.RecordPage](t, res)
	if diff := cmp.Diff(public, slugsOf(all.Items)); diff != "" || all.NextCursor != nil {
		t.Fatalf("listing (-want +got):\n%s\nnext cursor %v", diff, all.NextCursor)
	}
	for _, r := range all.Items {
		if !r.Latest || r.UUID == "" || r.Name[r.Lang] == "" || r.RiskCategory == "" || r.Governance.Approvals < 1 {
			t.Errorf("record %s: latest %v, uuid %q, name %v, risk %q, approvals %d", r.Slug, r.Latest, r.UUID, r.Name, r.RiskCategory, r.Governance.Approvals)
		}
	}
	for _, hidden := range unpublishedTexts(t) {
		if strings.Contains(res.body, hidden) {
			t.Errorf("the listing shows %q, from an entry that was never published", hidden)
		}
	}
	head := c.apiRequest(http.MethodHead, "/api/v1/algorithms", "", nil)
	expectStatus(t, head, http.StatusOK)
	if head.body != "" || head.Header.Get("Content-Length") != strconv.Itoa(len(res.body)) || head.Header.Get("ETag") != res.Header.Get("ETag") {
		t.Errorf("HEAD: body %q, Content-Length %q (GET: %d bytes)", head.body, head.Header.Get("Content-Length"), len(res.body))
	}

	// Walking the pages gives every entry exactly once, in order, whatever the page size.
	for _, size := range []int{1, 2, 3, 5, len(public), 200} {
		if diff := cmp.Diff(public, walk(t, c, url.Values{}, size)); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", size, diff)
		}
	}
	t.Run("filters", func(t *testing.T) { checkListFilters(t, c, all.Items) })
}

// checkListFilters checks that each filter of the listing gives what the records
// themselves say, across pages, and narrows the list.
func checkListFilters(t *testing.T, c *client, all []*algorithms.Record) {
	anyContains := func(text algorithms.Text, part string) bool {
		for _, v := range text {
			if strings.Contains(strings.ToLower(v), part) {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		query url.Values
		keep  func(*algorithms.Record) bool
	}{
		{url.Values{"domain": {"environment, spacial planning and water"}}, func(r *algorithms.Record) bool { return r.Domain == "environment, spacial planning and water" }},
		{url.Values{"risk": {"high risk"}}, func(r *algorithms.Record) bool { return r.RiskCategory == "high risk" }},
		{url.Values{"status": {"retired"}}, func(r *algorithms.Record) bool { return r.Status == "retired" }},
		{url.Values{"type": {"predictive"}}, func(r *algorithms.Record) bool { return r.Type == "predictive" }},
		{url.Values{"department": {"ECOLOGIA urbana"}}, func(r *algorithms.Record) bool { return anyContains(r.Department, "ecologia urbana") }},
	} {
		var want []string
		for _, r := range all {
			if tc.keep(r) {
				want = append(want, r.Slug)
			}
		}
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("%v: the demo data does not exercise this filter (%d of %d)", tc.query, len(want), len(all))
		}
		if diff := cmp.Diff(want, walk(t, c, tc.query, 2)); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.query, diff)
		}
	}
	// q finds what the public index finds for it in any of the three languages: words in
	// any field, unaccented, or a misspelt name; with another filter, the entries both keep.
	for _, tc := range []struct {
		q    string
		keep func(*algorithms.Record) bool
	}{
		{"ARBOLADO", nil}, {"traffic", nil}, {"semafors", nil}, {"semafros", nil}, {`"mapes predictius"`, nil},
		{"traffic", func(r *algorithms.Record) bool { return r.Type == "predictive" }},
	} {
		query := url.Values{"q": {tc.q}}
		var want []string
		for _, r := range all {
			if slices.Contains(indexSlugs(t, c, tc.q), r.Slug) && (tc.keep == nil || tc.keep(r)) {
				want = append(want, r.Slug)
			}
		}
		if tc.keep != nil {
			query.Set("type", "predictive")
		}
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("%v: the demo data does not exercise this search (%d of %d)", query, len(want), len(all))
		}
		if diff := cmp.Diff(want, walk(t, c, query, 2)); diff != "" {
			t.Errorf("%v (-want, as the index finds, +got):\n%s", query, diff)
		}
	}
	// Text of entries that were never published is not searched; LIKE wildcards are text.
	for _, q := range []string{"impagament", "Bicing", "%", "_", `\`} {
		res := c.apiRequest(http.MethodGet, "/api/v1/algorithms?q="+url.QueryEscape(q), "", nil)
		expectStatus(t, res, http.StatusOK)
		if got := decodeJSON[publish.RecordPage](t, res); len(got.Items) != 0 {
			t.Errorf("q=%s found %v", q, slugsOf(got.Items))
		}
	}
}

func TestPublicAPIListBadParameters(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	// A parameter that cannot be right is refused, naming it, rather than ignored.
	for query, field := range map[string]string{
		"limit=0": "limit", "limit=201": "limit", "limit=ten": "limit", "domain=astrology": "domain",
		"risk=unknown": "risk", "status=done": "status", "type=magic": "type", "cursor=%21%21": "cursor",
		"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("x' OR 1=1 --")): "cursor",
		"q=" + strings.Repeat("a", 201):                                          "q", "q=%FF": "q", "department=%00": "department",
	} {
		e := expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/algorithms?"+query, "", nil), http.StatusUnprocessableEntity, "invalid")
		if e.Error.Fields[field] == "" || strings.Contains(e.Error.Fields[field], "%!") {
			t.Errorf("%s: fields %v do not name %s", query, e.Error.Fields, field)
		}
	}
	res := c.apiRequest(http.MethodGet, "/api/v1/algorithms?q="+url.QueryEscape(strings.Repeat("é", 200))+"&limit=200", "", nil)
	expectStatus(t, res, http.StatusOK)
	if got := decodeJSON[publish.RecordPage](t, res); got.Items == nil || len(got.Items) != 0 || got.NextCursor != nil {
		t.Errorf("an empty register: %+v", got)
	}
	if !strings.Contains(res.body, `"items":[]`) || !strings.Contains(res.body, `"next_cursor":null`) {
		t.Errorf("empty page: %s", res.body)
	}
}

// startRevision opens a new revision of a demo entry with change applied, and submits it.
func startRevision(t *testing.T, app *testApp, staff demo.Staff, slug string, change func(*algorithms.FactSheet)) *algorithms.Revision {
	t.Helper()
	ctx := context.Background()
	alg, err := app.srv.Algorithms().BySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	owner := staff.Authors[demo.Author]
	if !alg.IsOwner(owner.UserID) {
		owner = staff.Authors[demo.Author2]
	}
	rev, err := app.srv.Algorithms().NewRevision(ctx, alg.ID, owner)
	if err != nil {
		t.Fatal(err)
	}
	sheet := rev.Sheet
	change(&sheet)
	if rev, err = app.srv.Algorithms().SaveSheet(ctx, rev.ID, rev.Version, sheet, owner); err != nil {
		t.Fatal(err)
	}
	by := review.Actor{UserID: owner.UserID, Email: owner.Email, Roles: []string{auth.RoleAuthor}}
	if err := app.srv.Review().Submit(ctx, rev.ID, by); err != nil {
		t.Fatal(err)
	}
	return rev
}

const apiBase = "/api/v1/algorithms/"

func TestPublicAPIEntry(t *testing.T) {
	t.Parallel()
	app := newAppWithLimit(t, -1)
	staff := demoStaff(t, app)
	c := app.client()
	t.Run("record", func(t *testing.T) { checkRecordAndETag(t, c) })
	t.Run("history", func(t *testing.T) { checkHistory(t, c) })
	t.Run("never published", func(t *testing.T) { checkNeverPublished(t, c) })
	t.Run("revision in review", func(t *testing.T) { checkRevisionInReview(t, app, staff, c) })
	t.Run("renamed", func(t *testing.T) { checkRenamed(t, app, staff, c) })
	t.Run("unpublished", func(t *testing.T) { checkUnpublished(t, app, c) })
}

// checkRecordAndETag reads the latest published revision, with a strong ETag: 304 when
// the client's copy is current, only headers to HEAD.
func checkRecordAndETag(t *testing.T, c *client) {
	path := apiBase + "deteccio-pobresa-energetica"
	res := c.apiRequest(http.MethodGet, path, "", nil)
	expectStatus(t, res, http.StatusOK)
	rec := decodeJSON[algorithms.Record](t, res)
	if rec.Slug != "deteccio-pobresa-energetica" || rec.Revision != 3 || !rec.Latest || rec.RiskCategory != "high risk" ||
		rec.Governance.Approvals != 2 || rec.PublicationDate == "" || rec.Name["ca"] == "" {
		t.Errorf("record: slug %q, revision %d, latest %v, risk %q, approvals %d", rec.Slug, rec.Revision, rec.Latest, rec.RiskCategory, rec.Governance.Approvals)
	}
	etag := res.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("ETag %q (must be strong), Content-Type %q", etag, res.Header.Get("Content-Type"))
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		res := c.apiRequest(http.MethodGet, path, "", nil, "If-None-Match", inm)
		expectStatus(t, res, http.StatusNotModified)
		if res.body != "" || res.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: body %q, ETag %q", inm, res.body, res.Header.Get("ETag"))
		}
	}
	expectStatus(t, c.apiRequest(http.MethodGet, path, "", nil, "If-None-Match", `"other"`), http.StatusOK)
	head := c.apiRequest(http.MethodHead, path, "", nil)
	expectStatus(t, head, http.StatusOK)
	if head.body != "" || head.Header.Get("ETag") != etag || head.Header.Get("Content-Length") != strconv.Itoa(len(res.body)) {
		t.Errorf("HEAD: body %q, ETag %q, Content-Length %q (GET body %d bytes)", head.body, head.Header.Get("ETag"), head.Header.Get("Content-Length"), len(res.body))
	}
}

// checkHistory reads the published history, newest first, each version at its own address.
func checkHistory(t *testing.T, c *client) {
	res := c.apiRequest(http.MethodGet, apiBase+"deteccio-pobresa-energetica/versions", "", nil)
	expectStatus(t, res, http.StatusOK)
	hist := decodeJSON[publish.VersionList](t, res)
	if len(hist.Versions) != 3 || hist.UUID == "" || hist.Slug != "deteccio-pobresa-energetica" {
		t.Fatalf("history: %+v", hist)
	}
	for i, v := range hist.Versions {
		if v.Revision != 3-i || v.Latest != (i == 0) || v.PublicationDate == "" || v.URL != apiBase+"deteccio-pobresa-energetica/versions/"+strconv.Itoa(v.Revision) {
			t.Errorf("version %d: %+v", i, v)
		}
		if v.Revision > 1 && v.RevisionNote["ca"] == "" {
			t.Errorf("version %d without its revision note", v.Revision)
		}
		res := c.apiRequest(http.MethodGet, v.URL, "", nil)
		expectStatus(t, res, http.StatusOK)
		if got := decodeJSON[algorithms.Record](t, res); got.Revision != v.Revision || got.Latest != v.Latest || got.UUID != hist.UUID {
			t.Errorf("%s: revision %d, latest %v", v.URL, got.Revision, got.Latest)
		}
	}
	for _, rest := range []string{"/versions/4", "/versions/0", "/versions/x"} {
		expectAPIError(t, c.apiRequest(http.MethodGet, apiBase+"deteccio-pobresa-energetica"+rest, "", nil), http.StatusNotFound, "not_found")
	}
}

// checkNeverPublished: an unknown slug and entries never published (a draft, in review,
// sent back) answer the same 404, in the API and on the public page.
func checkNeverPublished(t *testing.T, c *client) {
	unknown := expectAPIError(t, c.apiRequest(http.MethodGet, apiBase+"no-such-entry", "", nil), http.StatusNotFound, "not_found")
	for _, slug := range demoSlugs(t, demo.StateDraft, demo.StateInReview, demo.StateChangesRequested) {
		for _, rest := range []string{"", "/versions", "/versions/1"} {
			got := expectAPIError(t, c.apiRequest(http.MethodGet, apiBase+slug+rest, "", nil), http.StatusNotFound, "not_found")
			if diff := cmp.Diff(unknown, got); diff != "" {
				t.Errorf("%s%s answers unlike an unknown entry (-unknown +got):\n%s", slug, rest, diff)
			}
		}
		expectStatus(t, c.get("/ca/algorithms/"+slug), http.StatusNotFound)
	}
}

// checkRevisionInReview: a new revision in review stays private; the public keeps seeing
// the published one.
func checkRevisionInReview(t *testing.T, app *testApp, staff demo.Staff, c *client) {
	secret := "Text confidencial encara en revisió 7f3a9"
	pending := startRevision(t, app, staff, "risc-caiguda-arbrat", func(s *algorithms.FactSheet) {
		s.DescriptionShort = algorithms.Text{"ca": secret, "es": secret, "en": secret}
	})
	for _, path := range []string{apiBase + "risc-caiguda-arbrat", apiBase + "risc-caiguda-arbrat/versions", "/api/v1/algorithms",
		"/api/v1/algorithms?q=" + url.QueryEscape("confidencial"), "/ca/algorithms/risc-caiguda-arbrat"} {
		res := c.apiRequest(http.MethodGet, path, "", nil)
		expectStatus(t, res, http.StatusOK)
		if strings.Contains(res.body, "7f3a9") {
			t.Errorf("%s shows the text of a revision in review", path)
		}
	}
	n := "/versions/" + strconv.Itoa(pending.Number)
	expectAPIError(t, c.apiRequest(http.MethodGet, apiBase+"risc-caiguda-arbrat"+n, "", nil), http.StatusNotFound, "not_found")
	expectStatus(t, c.get("/ca/algorithms/risc-caiguda-arbrat"+n), http.StatusNotFound)
}

// checkRenamed: an entry renamed on publication answers its old slug with 301 to the
// same resource under the new one.
func checkRenamed(t *testing.T, app *testApp, staff demo.Staff, c *client) {
	renamed := startRevision(t, app, staff, "mapes-predictius-soroll", func(s *algorithms.FactSheet) {
		s.Name = algorithms.Text{"ca": "Mapes de soroll urbà", "es": "Mapas de ruido urbano", "en": "Urban noise maps"}
	})
	newSlug := algorithms.Slugify(renamed.Sheet.Name[renamed.Sheet.Lang])
	for _, by := range []review.Actor{staff.Reviewer, staff.Expert} {
		out, err := app.srv.Review().Decide(context.Background(), renamed.ID, review.Decision{Action: review.Approve, Rationale: "Fine."}, by)
		if err != nil {
			t.Fatal(err)
		}
		if out.State == algorithms.StatePublished {
			break
		}
	}
	for _, rest := range []string{"", "/versions", "/versions/1"} {
		res := c.apiRequest(http.MethodGet, apiBase+"mapes-predictius-soroll"+rest, "", nil)
		expectStatus(t, res, http.StatusMovedPermanently)
		if got := res.Header.Get("Location"); got != apiBase+newSlug+rest {
			t.Errorf("old slug%s: Location %q", rest, got)
		}
	}
	res := c.apiRequest(http.MethodGet, apiBase+newSlug, "", nil)
	expectStatus(t, res, http.StatusOK)
	if got := decodeJSON[algorithms.Record](t, res); got.Name["ca"] != "Mapes de soroll urbà" || got.Slug != newSlug || newSlug == "mapes-predictius-soroll" {
		t.Errorf("renamed entry: %v %q", got.Name, got.Slug)
	}
}

// checkUnpublished: an entry the data office unpublished answers 410 with the public
// reason, everywhere, and leaves the listing; one that was never public stays unknown.
func checkUnpublished(t *testing.T, app *testApp, c *client) {
	ctx := context.Background()
	alg, err := app.srv.Algorithms().BySlug(ctx, "assistent-virtual-010")
	if err != nil {
		t.Fatal(err)
	}
	reason := "Suspès per una resolució judicial (100% de les consultes)."
	if err := app.srv.Review().Unpublish(ctx, alg.ID, reason, review.Actor{Email: "admin@example.org"}); err != nil {
		t.Fatal(err)
	}
	for _, rest := range []string{"", "/versions", "/versions/1"} {
		res := c.apiRequest(http.MethodGet, apiBase+"assistent-virtual-010"+rest, "", nil)
		expectStatus(t, res, http.StatusGone)
		var g struct {
			Error     struct{ Code, Message string } `json:"error"`
			Tombstone publish.Tombstone              `json:"tombstone"`
		}
		if err := json.Unmarshal([]byte(res.body), &g); err != nil {
			t.Fatal(err)
		}
		if g.Error.Code != "gone" || !strings.Contains(g.Error.Message, reason) || g.Tombstone.Reason != reason ||
			g.Tombstone.UUID != alg.ID || g.Tombstone.UnpublishedAt.IsZero() {
			t.Errorf("410%s: %+v", rest, g)
		}
	}
	res := c.apiRequest(http.MethodGet, "/api/v1/algorithms", "", nil)
	if slices.Contains(slugsOf(decodeJSON[publish.RecordPage](t, res).Items), "assistent-virtual-010") {
		t.Error("the listing shows an unpublished entry")
	}
	draft, err := app.srv.Algorithms().BySlug(ctx, "reequilibri-estacions-bicing")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.srv.Review().Unpublish(ctx, draft.ID, "Never mind.", review.Actor{Email: "admin@example.org"}); err != nil {
		t.Fatal(err)
	}
	expectAPIError(t, c.apiRequest(http.MethodGet, apiBase+"reequilibri-estacions-bicing", "", nil), http.StatusNotFound, "not_found")
}

func TestPublicAPICORS(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	origin := "https://dades.example.net"
	for _, path := range []string{"/api/v1/algorithms", "/api/v1/algorithms/unknown", "/api/v1/algorithms/unknown/versions"} {
		res := c.apiRequest(http.MethodGet, path, "", nil, "Origin", origin)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("GET %s (%d): Access-Control-Allow-Origin %q", path, res.StatusCode, got)
		}
		if !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("GET %s: ETag not exposed", path)
		}
		if res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("GET %s allows credentials", path)
		}

		res = c.apiRequest(http.MethodOptions, path, "", nil, "Origin", origin, "Access-Control-Request-Method", "GET",
			"Access-Control-Request-Headers", "if-none-match")
		expectStatus(t, res, http.StatusNoContent)
		h := res.Header
		if h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS" ||
			h.Get("Access-Control-Allow-Headers") != "If-None-Match" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s: %v", path, h)
		}
	}
	// The staff's API is not opened to other sites.
	_, token := app.apiAuthor("laia@example.org")
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(map[string]any{"name": map[string]string{"ca": "Prova"}}, nil))
	expectStatus(t, res, http.StatusCreated)
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("author API answers with Access-Control-Allow-Origin %q", got)
	}
	if got := c.apiRequest(http.MethodGet, res.Header.Get("Location"), token, nil).Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("draft answers with Access-Control-Allow-Origin %q", got)
	}
}

func TestPublicAPIRateLimit(t *testing.T) {
	t.Parallel()
	app := newAppWithLimit(t, 3)
	c := app.client()
	for range 3 {
		expectStatus(t, c.apiRequest(http.MethodGet, "/api/v1/algorithms", "", nil), http.StatusOK)
	}
	res := c.apiRequest(http.MethodGet, "/api/v1/algorithms/anything", "", nil, "Origin", "https://example.net")
	expectAPIError(t, res, http.StatusTooManyRequests, "too_many_requests")
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("429 without CORS: a web page could not read it")
	}
	// A client with a valid token is not limited; a bad token is refused, not let through.
	u := app.user("rita@example.org", auth.RoleReviewer)
	token, _ := app.newToken(u, "harvester")
	for range 5 {
		expectStatus(t, c.apiRequest(http.MethodGet, "/api/v1/algorithms", token, nil), http.StatusOK)
	}
	expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/algorithms", "reg_"+strings.Repeat("x", 43), nil),
		http.StatusUnauthorized, "unauthenticated")
	// The public pages and the staff's API are not counted against the public API's limit.
	expectStatus(t, c.get("/ca/"), http.StatusOK)
	expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/review/queue", "", nil), http.StatusUnauthorized, "unauthenticated")
}
