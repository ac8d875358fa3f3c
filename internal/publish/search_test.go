package publish_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/database"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/review"
)

// The package's TestMain (main_test.go) starts PostgreSQL for these tests too.

type searchFixture struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *algorithms.Store
	wf    *review.Service
	ix    *publish.Index
	staff demo.Staff
	admin review.Actor
}

// newSearchFixture returns a fresh database holding the demo entries, driven through the
// review workflow: eleven published (one retired), one in review, one sent back, one draft.
func newSearchFixture(t *testing.T) *searchFixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := pgtest.NewDatabase(t)
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(pool, nil, false)
	f := &searchFixture{t: t, pool: pool, store: algorithms.NewStore(pool, defs), ix: publish.NewIndex(pool),
		staff: demo.Staff{Authors: map[string]algorithms.Actor{}}}
	f.wf = review.NewService(pool, f.store, svc.Users, "http://registry.test")
	for _, n := range []auth.NewUser{
		{Email: demo.Author, Roles: []string{auth.RoleAuthor}}, {Email: demo.Author2, Roles: []string{auth.RoleAuthor}},
		{Email: "reviewer@demo.example", Roles: []string{auth.RoleReviewer}},
		{Email: "expert@demo.example", Roles: []string{auth.RoleExpert}},
		{Email: "admin@demo.example", Roles: []string{auth.RoleAdmin}},
	} {
		n.Name, n.Password = n.Email, "a long enough password"
		u, err := svc.CreateUser(ctx, n, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		actor := review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
		switch n.Roles[0] {
		case auth.RoleAuthor:
			f.staff.Authors[u.Email] = algorithms.Actor{UserID: u.ID, Email: u.Email}
		case auth.RoleReviewer:
			f.staff.Reviewer = actor
		case auth.RoleExpert:
			f.staff.Expert = actor
		case auth.RoleAdmin:
			f.admin = actor
		}
	}
	if _, err := demo.Seed(ctx, f.store, f.wf, f.staff); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *searchFixture) author() algorithms.Actor { return f.staff.Authors[demo.Author] }

func (f *searchFixture) search(lang i18n.Lang, query string) *publish.Results {
	f.t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.ix.Search(context.Background(), publish.ParseQuery(v, lang))
	if err != nil {
		f.t.Fatalf("search %s %q: %v", lang, query, err)
	}
	return res
}

func slugs(hits []publish.Hit) []string {
	out := []string{}
	for _, h := range hits {
		out = append(out, h.Slug)
	}
	return out
}

// algorithmID returns the ID of the entry with slug.
func (f *searchFixture) algorithmID(slug string) string {
	f.t.Helper()
	alg, err := f.store.BySlug(context.Background(), slug)
	if err != nil {
		f.t.Fatal(err)
	}
	return alg.ID
}

// TestSearchForgivesAccentsAndTypos: in each language, a word typed without its accent and
// a misspelt word both find the entry, first.
func TestSearchForgivesAccentsAndTypos(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	cases := []struct {
		lang  i18n.Lang
		q     string
		first string
	}{
		{i18n.Catalan, "pobresa energetica", "deteccio-pobresa-energetica"},        // energètica
		{i18n.Catalan, "semafors autobus", "prioritat-semaforica-bus-emergencies"}, // semàfors, autobús
		{i18n.Catalan, "pobresa enerjetica", "deteccio-pobresa-energetica"},        // misspelt
		{i18n.Catalan, "arbrat viarri", "risc-caiguda-arbrat"},                     // misspelt
		{i18n.Spanish, "semaforos", "prioritat-semaforica-bus-emergencies"},        // semáforos
		{i18n.Spanish, "prediccion accidentes", "prediccio-trams-risc-accidents"},
		{i18n.Spanish, "semafros", "prioritat-semaforica-bus-emergencies"},  // misspelt
		{i18n.Spanish, "contaminasion acustica", "mapes-predictius-soroll"}, // misspelt
		// English: the retired pilot has no English text, so the English search falls back
		// to its Catalan text, where "càrrega i descàrrega" is found without accents.
		{i18n.English, "carrega descarrega", "pilot-ocupacio-carrega-descarrega-cameres"},
		{i18n.English, "housholds", "deteccio-pobresa-energetica"},      // misspelt
		{i18n.English, "enviromental noise", "mapes-predictius-soroll"}, // misspelt
	}
	for _, c := range cases {
		t.Run(string(c.lang)+"/"+c.q, func(t *testing.T) {
			res := f.search(c.lang, "q="+url.QueryEscape(c.q))
			if got := slugs(res.Hits); len(got) == 0 || got[0] != c.first {
				t.Errorf("search %q in %s: got %v, want %s first", c.q, c.lang, got, c.first)
			}
		})
	}
	// Nothing resembles nonsense, and words alone do not find by chance.
	if res := f.search(i18n.Catalan, "q=zorblaxquatch"); res.Total != 0 {
		t.Errorf("nonsense found %v", slugs(res.Hits))
	}
	// A name match ranks above a match in the body.
	if res := f.search(i18n.Catalan, "q=pobresa"); res.Total < 1 || res.Hits[0].Slug != "deteccio-pobresa-energetica" {
		t.Errorf("pobresa: %v", slugs(res.Hits))
	}
}

// TestSearchShowsOnlyTheLatestPublishedRevision: a revision in review, a draft, an entry
// sent back and a brand-new draft are never found, whatever the language or spelling; the
// public keeps finding the published revision meanwhile, with its own number.
func TestSearchShowsOnlyTheLatestPublishedRevision(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	// Revision 2 of a published entry, in review, with words of its own.
	algID := f.algorithmID("risc-caiguda-arbrat")
	owner := f.staff.Authors[demo.Author2]
	rev, err := f.store.NewRevision(ctx, algID, owner)
	if err != nil {
		t.Fatal(err)
	}
	sheet := rev.Sheet
	sheet.Name = algorithms.Text{"ca": "Xiprerflux de l'arbrat", "es": "Xiprerflux del arbolado", "en": "Xiprerflux tree model"}
	sheet.Description["ca"] += " Quokkamatic."
	if rev, err = f.store.SaveSheet(ctx, rev.ID, rev.Version, sheet, owner); err != nil {
		t.Fatal(err)
	}
	author := review.Actor{UserID: owner.UserID, Email: owner.Email}
	if err := f.wf.Submit(ctx, rev.ID, author); err != nil {
		t.Fatal(err)
	}
	if err := f.wf.Claim(ctx, rev.ID, f.staff.Reviewer); err != nil {
		t.Fatal(err)
	}
	// A new entry, left as a draft.
	draft := sheet
	draft.Name = algorithms.Text{"ca": "Zumbrellix de prova"}
	if _, _, err := f.store.Create(ctx, f.author(), draft); err != nil {
		t.Fatal(err)
	}
	// Words of the demo's unpublished entries: check first that no published revision
	// has them, so that the test proves what it says.
	unpublishedWords := []string{"xiprerflux", "quokkamatic", "zumbrellix", "impagament", "impago", "Bicing", "rebalancing", "incoherencias"}
	for _, w := range unpublishedWords {
		var n int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM revisions WHERE state = 'published' AND fact_sheet::text ILIKE '%' || $1 || '%'`,
			w).Scan(&n); err != nil || n != 0 {
			t.Fatalf("precondition: %q is in %d published revisions (%v)", w, n, err)
		}
		for _, l := range i18n.Langs {
			for _, q := range []string{w, w[:len(w)-1] + "x"} { // as written, and misspelt
				if res := f.search(l, "q="+url.QueryEscape(q)); res.Total != 0 {
					t.Errorf("%s: %q found %v", l, q, slugs(res.Hits))
				}
			}
		}
	}
	// The published revision 1 is still what the public finds.
	res := f.search(i18n.Catalan, "q=caiguda+arbrat")
	if res.Total != 1 || res.Hits[0].Slug != "risc-caiguda-arbrat" || res.Hits[0].Revision != 1 {
		t.Fatalf("published revision during review: %+v", res.Hits)
	}
	// Once published, revision 2 replaces it: its words are found, once.
	if _, err := f.wf.Decide(ctx, rev.ID, review.Decision{Action: review.Approve, Rationale: "Fine."}, f.staff.Reviewer); err != nil {
		t.Fatal(err)
	}
	res = f.search(i18n.English, "q=xiprerflux")
	if res.Total != 1 || res.Hits[0].Revision != 2 || res.Hits[0].Name["en"] != "Xiprerflux tree model" {
		t.Fatalf("after publication: %+v", res.Hits)
	}
	if res := f.search(i18n.English, ""); res.Total != 11 {
		t.Errorf("entries after a second revision: %d, want 11", res.Total)
	}
}

// TestUnpublishRemovesFromSearch: an administrator's emergency unpublish takes the entry out
// of search results, counts and facets at once.
func TestUnpublishRemovesFromSearch(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	before := f.search(i18n.Catalan, "")
	if res := f.search(i18n.Catalan, "q=pobresa+energetica"); res.Total != 1 {
		t.Fatalf("before: %d", res.Total)
	}
	if err := f.wf.Unpublish(ctx, f.algorithmID("deteccio-pobresa-energetica"), "Under investigation.", f.admin); err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Langs {
		for _, q := range []string{"q=pobresa+energetica", "q=housholds", "q=pobresa+enerjetica"} {
			if res := f.search(l, q); slices.Contains(slugs(res.Hits), "deteccio-pobresa-energetica") {
				t.Errorf("%s %s: unpublished entry found", l, q)
			}
		}
	}
	after := f.search(i18n.Catalan, "")
	if after.Total != before.Total-1 {
		t.Errorf("total %d → %d", before.Total, after.Total)
	}
	if got, want := facet(after, "risk", "high risk"), facet(before, "risk", "high risk")-1; got != want {
		t.Errorf("high risk facet: %d, want %d", got, want)
	}
	// Only the triggers write the index: the application's role cannot.
	for _, sql := range []string{`DELETE FROM search_documents`, `UPDATE search_documents SET slug = 'x'`,
		`INSERT INTO search_documents SELECT * FROM search_documents`} {
		if _, err := f.pool.Exec(ctx, sql); !database.HasCode(err, "42501") {
			t.Errorf("%s: %v, want insufficient_privilege", sql, err)
		}
	}
	o, err := f.ix.Overview(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	if o.Total != after.Total || slices.Contains(slugs(o.Latest), "deteccio-pobresa-energetica") {
		t.Errorf("overview after unpublish: total %d, latest %v", o.Total, slugs(o.Latest))
	}
}

func facet(res *publish.Results, name, value string) int {
	for _, c := range res.Facets[name] {
		if c.Value == value {
			return c.Count
		}
	}
	return 0
}

// directCounts counts the entries the public can see, straight from the revisions (the
// truth the index must agree with), grouped by filter group ("" for the total), among
// those meeting every filter of q but group's own.
func directCounts(t *testing.T, pool *pgxpool.Pool, q publish.Query, group string) map[string]int {
	t.Helper()
	cols := map[string]string{"domain": "r.fact_sheet->>'domain'", "risk": "r.risk_category", "status": "r.fact_sheet->>'status'",
		"type": "r.fact_sheet->>'type'", "department": "r.fact_sheet->'department'->>(r.fact_sheet->>'lang')", "": "''"}
	where := []string{"a.unpublished_at IS NULL"}
	var args []any
	for _, f := range publish.Filters {
		if v := q.Filter(f); v != "" && f != group {
			args = append(args, v)
			where = append(where, fmt.Sprintf("%s = $%d", cols[f], len(args)))
		}
	}
	rows, err := pool.Query(context.Background(), `SELECT `+cols[group]+`, count(*) FROM algorithms a
		JOIN revisions r ON r.algorithm_id = a.id AND r.state = 'published'
		 AND r.number = (SELECT max(number) FROM revisions p WHERE p.algorithm_id = a.id AND p.state = 'published')
		WHERE `+strings.Join(where, " AND ")+` GROUP BY 1`, args...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	var k string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFiltersAndPagesAgreeWithDatabase: over the demo entries and a thousand synthetic ones,
// the total and every facet count equal a direct count over the latest published revisions,
// and walking the pages yields every entry once, in order.
func TestFiltersAndPagesAgreeWithDatabase(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	if err := f.store.SeedSynthetic(ctx, 1050, f.author()); err != nil { // two batches
		t.Fatal(err)
	}
	queries := []string{"", "risk=high+risk", "status=operational&type=predictive", "domain=traffic+and+transportation&risk=minimal+risk",
		"department=Institut+Municipal+d%27Hisenda", "domain=taxes&status=planned&type=descriptive&risk=limited+risk"}
	for _, raw := range queries {
		t.Run(raw, func(t *testing.T) {
			res := f.search(i18n.Catalan, raw)
			if want := directCounts(t, f.pool, res.Query, "")[""]; res.Total != want {
				t.Errorf("total %d, want %d", res.Total, want)
			}
			for _, name := range publish.Filters {
				got := map[string]int{}
				for _, c := range res.Facets[name] {
					got[c.Value] = c.Count
				}
				if diff := cmp.Diff(directCounts(t, f.pool, res.Query, name), got); diff != "" {
					t.Errorf("facet %s (-want +got):\n%s", name, diff)
				}
			}
		})
	}
	// Every page, in both orders without a query: each entry once, pages of PageSize.
	for _, order := range []string{"changed", "name"} {
		res := f.search(i18n.Spanish, "sort="+order)
		seen := map[string]bool{}
		var prev publish.Hit
		for page := 1; page <= res.Pages; page++ {
			p := f.search(i18n.Spanish, fmt.Sprintf("sort=%s&page=%d", order, page))
			if len(p.Hits) > publish.PageSize || (page < res.Pages && len(p.Hits) != publish.PageSize) {
				t.Fatalf("%s page %d has %d hits", order, page, len(p.Hits))
			}
			for _, h := range p.Hits {
				if seen[h.Slug] {
					t.Fatalf("%s: %s on two pages", order, h.Slug)
				}
				seen[h.Slug] = true
				if order == "changed" && prev.Slug != "" && h.PublishedAt.After(prev.PublishedAt) {
					t.Fatalf("changed: %s (%v) after %s (%v)", h.Slug, h.PublishedAt, prev.Slug, prev.PublishedAt)
				}
				prev = h
			}
		}
		if len(seen) != res.Total || res.Total != 11+1050 {
			t.Errorf("%s: walked %d entries, total %d", order, len(seen), res.Total)
		}
	}
	// A page beyond the last is the last; nonsense pages are the first.
	last := f.search(i18n.Catalan, "page=9999")
	if last.Query.Page != last.Pages || len(last.Hits) == 0 {
		t.Errorf("page 9999: page %d of %d, %d hits", last.Query.Page, last.Pages, len(last.Hits))
	}
	for _, raw := range []string{"page=-1", "page=abc", "page=0", "risk=severe", "sort=drop+table"} {
		if res := f.search(i18n.Catalan, raw); res.Query.Page != 1 || res.Total != 11+1050 {
			t.Errorf("%s: page %d, total %d", raw, res.Query.Page, res.Total)
		}
	}
	// With a text query, every page's hits together are the total, and the domain facet
	// (every entry has a domain) adds up to it.
	res := f.search(i18n.Catalan, "q=aigua")
	sum, n := 0, 0
	for _, c := range res.Facets["domain"] {
		sum += c.Count
	}
	for page := 1; page <= res.Pages; page++ {
		n += len(f.search(i18n.Catalan, fmt.Sprintf("q=aigua&page=%d", page)).Hits)
	}
	if res.Total == 0 || sum != res.Total || n != res.Total {
		t.Errorf("q=aigua: total %d, domain facet sum %d, hits on all pages %d", res.Total, sum, n)
	}
}

// TestSeedSynthetic: synthetic entries are complete, published, of realistic size, and
// indexed and exported like any other.
func TestSeedSynthetic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := pgtest.NewDatabase(t)
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	store := algorithms.NewStore(pool, defs)
	u, err := auth.NewService(pool, nil, false).CreateUser(ctx, auth.NewUser{Email: "a@example.org", Name: "A",
		Roles: []string{auth.RoleAuthor}, Password: "a long enough password"}, auth.Actor{Email: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SeedSynthetic(ctx, 0, algorithms.Actor{}); err == nil {
		t.Error("synthetic entries without an owner")
	}
	if err := store.SeedSynthetic(ctx, 120, algorithms.Actor{UserID: u.ID, Email: u.Email}); err != nil {
		t.Fatal(err)
	}
	tiers := map[string]int{}
	n := 0
	err = store.EachPublished(ctx, algorithms.EachOptions{}, func(rec *algorithms.Record) error {
		n++
		tiers[rec.RiskCategory]++
		if missing := rec.FactSheet.Missing(); len(missing) > 0 {
			t.Errorf("%s lacks %v", rec.Slug, missing)
		}
		if err := rec.FactSheet.Validate(); err != nil {
			t.Errorf("%s: %v", rec.Slug, err)
		}
		if d := len(rec.Description[rec.Lang]); d < 900 || d > 3500 {
			t.Errorf("%s: description of %d bytes", rec.Slug, d)
		}
		if rec.Name[rec.Lang] == "" || rec.Department[rec.Lang] == "" {
			t.Errorf("%s: no name or department in its language %s", rec.Slug, rec.Lang)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 120 || tiers["minimal risk"] == 0 || tiers["limited risk"] == 0 || tiers["high risk"] == 0 {
		t.Errorf("%d entries, tiers %v", n, tiers)
	}
	if res, err := publish.NewIndex(pool).Search(ctx, publish.ParseQuery(url.Values{}, i18n.English)); err != nil || res.Total != 120 {
		t.Errorf("indexed: %v, %v", res, err)
	}
}
