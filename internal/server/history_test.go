package server

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/review"
)

// histMarker is written into revisions that are never published: no public page or feed
// may ever show it.
const histMarker = "Xylophonequokka"

const (
	histHighRisk = "deteccio-pobresa-energetica" // three published revisions after demo.Seed
	histMinimal  = "risc-caiguda-arbrat"         // one published revision, one approval
	histRetired  = "pilot-ocupacio-carrega-descarrega-cameres"
)

// histFixture is the application with the demo register seeded through the workflow.
type histFixture struct {
	t     *testing.T
	app   *testApp
	staff demo.Staff
}

func newHistFixture(t *testing.T) *histFixture {
	t.Helper()
	app := newTestApp(t)
	staff := demo.Staff{Authors: map[string]algorithms.Actor{}}
	for _, email := range []string{demo.Author, demo.Author2} {
		u := app.user(email, auth.RoleAuthor)
		staff.Authors[email] = algorithms.Actor{UserID: u.ID, Email: u.Email}
	}
	r := app.user("reviewer@demo.example", auth.RoleReviewer)
	staff.Reviewer = review.Actor{UserID: r.ID, Email: r.Email, Roles: r.Roles}
	e := app.user("expert@demo.example", auth.RoleExpert)
	staff.Expert = review.Actor{UserID: e.ID, Email: e.Email, Roles: e.Roles}
	if _, err := demo.Seed(context.Background(), app.srv.Algorithms(), app.srv.Review(), staff); err != nil {
		t.Fatal(err)
	}
	return &histFixture{t: t, app: app, staff: staff}
}

// revise starts the next revision of an entry as its owner and saves change into it.
func (f *histFixture) revise(slug string, change func(*algorithms.FactSheet)) (*algorithms.Revision, algorithms.Actor) {
	f.t.Helper()
	ctx := context.Background()
	store := f.app.srv.Algorithms()
	alg, err := store.BySlug(ctx, slug)
	if err != nil {
		f.t.Fatal(err)
	}
	owner := f.staff.Authors[alg.Owners[0].Email]
	rev, err := store.NewRevision(ctx, alg.ID, owner)
	if err != nil {
		f.t.Fatal(err)
	}
	sheet := rev.Sheet
	change(&sheet)
	if rev, err = store.SaveSheet(ctx, rev.ID, rev.Version, sheet, owner); err != nil {
		f.t.Fatal(err)
	}
	if err := f.app.srv.Review().Submit(ctx, rev.ID, review.Actor{UserID: owner.UserID, Email: owner.Email}); err != nil {
		f.t.Fatal(err)
	}
	return rev, owner
}

// publish approves a submitted revision as its route needs, which publishes it.
func (f *histFixture) publish(rev *algorithms.Revision) {
	f.t.Helper()
	d := review.Decision{Action: review.Approve, Rationale: "Complete.", AcceptException: rev.Assessment.ExceptionClaimed}
	for _, who := range []review.Actor{f.staff.Reviewer, f.staff.Expert} {
		out, err := f.app.srv.Review().Decide(context.Background(), rev.ID, d, who)
		if err != nil {
			f.t.Fatal(err)
		}
		if out.State == algorithms.StatePublished {
			return
		}
	}
	f.t.Fatalf("revision %d was not published", rev.Number)
}

// versionNumbers lists the versions a history page shows, in page order.
func versionNumbers(body string) []int {
	var out []int
	for _, m := range regexp.MustCompile(`<li class="version[^"]*" id="version-([0-9]+)"`).FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// marked returns the text inside every <tag> of a diff, with the screen-reader labels.
func marked(body, tag string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")))
	}
	return out
}

func containsPart(parts []string, s string) bool {
	return slices.ContainsFunc(parts, func(p string) bool { return strings.Contains(p, s) })
}

// unpublishedNames are the names, in every language, of demo entries never published.
func unpublishedNames(t *testing.T) []string {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.State == demo.StatePublished || e.State == demo.StateRetired || len(e.Updates) > 0 {
			continue
		}
		var sheet algorithms.FactSheet
		if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
			t.Fatal(err)
		}
		for _, v := range sheet.Name {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatal("the demo has no unpublished entries any more")
	}
	return out
}

// expectAbsent fails when any of texts is in a public answer.
func expectAbsent(t *testing.T, where, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(body, s) || strings.Contains(body, html.EscapeString(s)) {
			t.Errorf("%s shows %q, which was never published", where, s)
		}
	}
}

func expectRedirect301(t *testing.T, res *response, want string) {
	t.Helper()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
		t.Fatalf("%s: %d to %q, want 301 to %q", res.Request.URL.Path, res.StatusCode, res.Header.Get("Location"), want)
	}
}

// histScene is the seeded register with revision 4 of histHighRisk submitted, carrying
// histMarker: what the public checks run against.
type histScene struct {
	f      *histFixture
	c      *client
	hidden []string // text no public answer may show
	base   string   // the high-risk entry's address in English
}

// TestPublicHistory runs on the seeded demo register, with a revision in review that
// carries a marker word: the history, the comparisons and both feeds show exactly the
// published revisions, and never the marker.
func TestPublicHistory(t *testing.T) {
	t.Parallel()
	f := newHistFixture(t)
	// Revision 4 of the high-risk entry is submitted, not published.
	f.revise(histHighRisk, func(s *algorithms.FactSheet) {
		s.Description["en"] += " " + histMarker
		s.Description["ca"] += " " + histMarker
		s.ContactPhone = "+34 900 000 " + "999"
		s.RevisionNote = algorithms.Text{"ca": histMarker + " nota", "en": histMarker + " note"}
	})
	sc := &histScene{f: f, c: f.app.client(), hidden: append(unpublishedNames(t), histMarker, "900 000 999"),
		base: "/en/algorithms/" + histHighRisk}
	for _, check := range []struct {
		name string
		run  func(*testing.T, *histScene)
	}{
		{"history", testHistoryPage}, {"history fallback", testHistoryFallback}, {"diff", testDiffPage},
		{"diff language", testDiffLanguage}, {"diff addresses", testDiffAddresses}, {"diff identical", testDiffIdentical},
		{"compare form", testCompareForm}, {"register feed", testRegisterFeed}, {"entry feed", testEntryFeed},
	} {
		t.Run(check.name, func(t *testing.T) { check.run(t, sc) })
	}
}

// testHistoryPage checks that the history lists the published revisions, newest first.
func testHistoryPage(t *testing.T, sc *histScene) {
	res := sc.c.get(sc.base + "/versions")
	expectStatus(t, res, http.StatusOK)
	if got := versionNumbers(res.body); !slices.Equal(got, []int{3, 2, 1}) {
		t.Fatalf("versions shown %v, want [3 2 1]", got)
	}
	expectAbsent(t, "the history", res.body, sc.hidden...)
	for _, want := range []string{
		`href="` + sc.base + `/versions/3"`, `href="` + sc.base + `/diff/2..3"`, `href="` + sc.base + `/diff/1..2"`,
		"Six-monthly retraining of the model (March 2025) and updated results.",
		"New online form to object to the processing, and a new contact phone number.",
		"with 2 approval(s).", `action="` + sc.base + `/diff"`, `href="` + sc.base + `/feed.atom"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the history lacks %q", want)
		}
	}
	if strings.Contains(res.body, "/versions/4") || strings.Contains(res.body, "..4") {
		t.Error("the history links to revision 4, which is in review")
	}
}

// testHistoryFallback checks that a change note in another language is marked.
func testHistoryFallback(t *testing.T, sc *histScene) {
	// The minimal entry's first note exists only in Catalan.
	res := sc.c.get("/en/algorithms/" + histMinimal + "/versions")
	expectStatus(t, res, http.StatusOK)
	want := "Not yet translated; shown in Catalan."
	if !strings.Contains(res.body, want) || !strings.Contains(res.body, `lang="ca">`) {
		t.Errorf("the fallback note is not marked:\n%s", res.body)
	}
}

// testDiffPage checks that the diff shows the changed fields only, word by word.
func testDiffPage(t *testing.T, sc *histScene) {
	res := sc.c.get(sc.base + "/diff/2..3")
	expectStatus(t, res, http.StatusOK)
	expectAbsent(t, "the diff", res.body, sc.hidden...)
	for _, field := range []string{"contact_phone", "objection_procedure", "revision_note"} {
		if !strings.Contains(res.body, `id="field-`+field+`"`) {
			t.Errorf("the diff does not show %s, which changed", field)
		}
	}
	for _, field := range []string{"performance", "goal", "description", "name"} {
		if strings.Contains(res.body, `id="field-`+field+`"`) {
			t.Errorf("the diff shows %s, which did not change", field)
		}
	}
	ins, del := marked(res.body, "ins"), marked(res.body, "del")
	if !containsPart(ins, "[added: 011]") || !containsPart(del, "[removed: 010]") {
		t.Errorf("phone change not marked: ins %q, del %q", ins, del)
	}
	if !containsPart(ins, "with the online form on the website") {
		t.Errorf("inserted words not marked: %q", ins)
	}
	if !strings.Contains(res.body, "<h2 id=\"field-objection_procedure-title\">How to object</h2>") {
		t.Error("field label missing or untranslated")
	}
}

// testDiffLanguage checks that the diff's labels are in the page language.
func testDiffLanguage(t *testing.T, sc *histScene) {
	res := sc.c.get("/ca/algorithms/" + histHighRisk + "/diff/2..3")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, ">Telèfon de contacte</h2>") || !containsPart(marked(res.body, "ins"), "[afegit: 011]") {
		t.Error("the Catalan diff is not in Catalan")
	}
}

// testDiffAddresses checks that addresses that are not two published revisions.
func testDiffAddresses(t *testing.T, sc *histScene) {
	for path, want := range map[string]int{
		sc.base + "/diff/3..2":                                 http.StatusMovedPermanently,
		sc.base + "/diff/+2..03":                               http.StatusMovedPermanently,
		sc.base + "/diff/3..4":                                 http.StatusNotFound, // 4 is in review
		sc.base + "/diff/1..99":                                http.StatusNotFound,
		sc.base + "/diff/0..1":                                 http.StatusNotFound,
		sc.base + "/diff/1..":                                  http.StatusNotFound,
		sc.base + "/diff/one..two":                             http.StatusNotFound,
		sc.base + "/diff/1-2":                                  http.StatusNotFound,
		sc.base + "/versions/4":                                http.StatusNotFound,
		"/en/algorithms/no-such-entry/versions":                http.StatusNotFound,
		"/en/algorithms/no-such-entry/diff/1..2":               http.StatusNotFound,
		"/en/algorithms/no-such-entry/feed.atom":               http.StatusNotFound,
		"/en/algorithms/previsio-impagament-tributs/versions":  http.StatusNotFound, // never published
		"/en/algorithms/previsio-impagament-tributs/feed.atom": http.StatusNotFound,
		"/en/algorithms/previsio-impagament-tributs/diff/1..1": http.StatusNotFound,
	} {
		res := sc.c.get(path)
		expectStatus(t, res, want)
		expectAbsent(t, path, res.body, sc.hidden...)
	}
	expectRedirect301(t, sc.c.get(sc.base+"/diff/3..2"), sc.base+"/diff/2..3")
	expectRedirect301(t, sc.c.get(sc.base+"/diff/+2..03"), sc.base+"/diff/2..3")
}

// testDiffIdentical checks that a revision compared with itself.
func testDiffIdentical(t *testing.T, sc *histScene) {
	res := sc.c.get(sc.base + "/diff/2..2")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, "There are no differences between these two versions.") || strings.Contains(res.body, "<ins>") {
		t.Error("a revision compared with itself shows differences")
	}
}

// testCompareForm checks that the compare form sends the reader to the comparison.
func testCompareForm(t *testing.T, sc *histScene) {
	expectRedirect(t, sc.c.get(sc.base+"/diff?from=3&to=1"), sc.base+"/diff/1..3")
	expectRedirect(t, sc.c.get(sc.base+"/diff?from=1&to=2"), sc.base+"/diff/1..2")
	expectStatus(t, sc.c.get(sc.base+"/diff?from=x&to=2"), http.StatusBadRequest)
	expectStatus(t, sc.c.get(sc.base+"/diff"), http.StatusBadRequest)
	expectStatus(t, sc.c.get("/en/algorithms/no-such-entry/diff?from=1&to=2"), http.StatusNotFound)
}

// TestPublicationRefreshesHistoryAndFeeds publishes a revision after the history, a
// comparison and the feeds were cached: the Published hook drops them, so the new
// revision appears at once, at the top of both feeds, with the change marked in the diff.
// Markup in the text reaches the feed escaped and the reader decodes it back.
func TestPublicationRefreshesHistoryAndFeeds(t *testing.T) {
	t.Parallel()
	f := newHistFixture(t)
	c := f.app.client()
	base := "/en/algorithms/" + histMinimal
	if got := versionNumbers(c.get(base + "/versions").body); !slices.Equal(got, []int{1}) {
		t.Fatalf("before: versions %v", got)
	}
	_, before, _ := getFeed(t, c, "/en/feed.atom", "en")
	getFeed(t, c, base+"/feed.atom", "en")
	expectStatus(t, c.get(base+"/diff/1..2"), http.StatusNotFound)

	rev, _ := f.revise(histMinimal, func(s *algorithms.FactSheet) {
		s.Goal["ca"] = strings.Replace(s.Goal["ca"], "inspecciona visualment", "inspecciona acústicament", 1)
		s.Name["en"] += " & <b>trees</b>"
		s.RevisionNote = algorithms.Text{"ca": "Inspecció acústica.", "en": "Acoustic inspection."}
	})
	// Submitted, not yet published: nothing public changes.
	if got := versionNumbers(c.get(base + "/versions").body); !slices.Equal(got, []int{1}) {
		t.Fatalf("after submission: versions %v", got)
	}
	f.publish(rev)

	res := c.get(base + "/versions")
	if got := versionNumbers(res.body); !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("after publication: versions %v", got)
	}
	if !strings.Contains(res.body, "Acoustic inspection.") || !strings.Contains(res.body, "&amp; &lt;b&gt;trees&lt;/b&gt;") {
		t.Error("the new revision's note or escaped name is missing")
	}
	diff := c.get(base + "/diff/1..2")
	expectStatus(t, diff, http.StatusOK)
	// Neither revision has the goal in English: it is compared in Catalan, and said so.
	if !containsPart(marked(diff.body, "del"), "visualment") || !containsPart(marked(diff.body, "ins"), "acústicament") {
		t.Errorf("goal change not marked:\n%s", diff.body)
	}
	if !strings.Contains(diff.body, `<div class="diff-text" lang="ca">`) {
		t.Error("a field compared in the original language is not marked")
	}
	if strings.Contains(diff.body, `id="field-description"`) {
		t.Error("an unchanged field is shown")
	}

	_, after, _ := getFeed(t, c, "/en/feed.atom", "en")
	if len(after) != len(before)+1 || after[0].Slug != histMinimal || after[0].Number != 2 || after[0].Kind != "updated" {
		t.Fatalf("register feed after publication: %d entries (before %d), first %+v", len(after), len(before), after[0])
	}
	if !strings.Contains(after[0].Title, "& <b>trees</b>, revision 2") {
		t.Errorf("title %q", after[0].Title)
	}
	_, entry, _ := getFeed(t, c, base+"/feed.atom", "en")
	if len(entry) != 2 || entry[0].Number != 2 || entry[1].Kind != "new" {
		t.Fatalf("entry feed after publication: %+v", entry)
	}
}
