package server

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/i18n"
)

// The texts people type in the review journey, in Catalan as the city writes them.
const (
	reviewSlug       = "deteccio-pobresa-energetica" // high risk (Annex III), level III: 2 approvals, one by an expert
	changesRationale = "Expliqueu com es pot oposar una llar que no té accés a internet."
	addedObjection   = "També podeu presentar l'oposició en persona a qualsevol Oficina d'Atenció Ciutadana, sense cita prèvia."
	annaRationale    = "La via presencial resol el que demanàvem; el risc queda ben mitigat."
	bernatRationale  = "Com a experta externa, hi estic d'acord amb una condició d'auditoria."
	publicCondition  = "Auditar els errors per districte cada sis mesos."
)

// reviewJourney holds the people of TestReviewJourneyInBrowser and what they work on.
type reviewJourney struct {
	t                    *testing.T
	app                  *testApp
	laia, anna, bernat   *browserTab
	citizen              *browserTab // signed out throughout
	revID, overview      string
	sheet                algorithms.FactSheet
	factSheet, reviewURL string
}

// TestReviewJourneyInBrowser walks a high-risk entry through the ethics review in a real
// browser with JavaScript off: the author submits, a reviewer requests changes, the author
// answers them and resubmits, the reviewer sees what changed and approves, and only the
// external expert's approval publishes the fact sheet, with its public condition.
func TestReviewJourneyInBrowser(t *testing.T) {
	start := time.Now()
	app := newTestApp(t)
	laiaUser := app.user("laia@example.org", auth.RoleAuthor)
	app.user("anna@example.org", auth.RoleReviewer)
	app.user("bernat@example.org", auth.RoleExpert)
	rev, sheet := draftDemoEntry(t, app, reviewSlug, laiaUser)
	ctx := newBrowser(t)
	j := &reviewJourney{t: t, app: app, revID: rev.ID, sheet: sheet,
		overview: "/workspace/" + rev.AlgorithmID, reviewURL: "/review/" + rev.ID,
		factSheet: "/ca/algorithms/" + reviewSlug}
	j.laia = newBrowserTab(t, ctx, app)
	j.anna = j.newContext(ctx)
	j.bernat = j.newContext(ctx)
	j.citizen = j.newContext(ctx)
	t.Logf("browser ready after %v", time.Since(start).Round(time.Millisecond))

	j.authorSubmits()
	j.reviewerRequestsChanges()
	j.authorAnswers()
	j.reviewerApproves()
	j.notPublicYet()
	j.expertPublishes()
	j.publicFactSheet()

	for who, b := range map[string]*browserTab{"Laia": j.laia, "Anna": j.anna, "Bernat": j.bernat, "the citizen": j.citizen} {
		b.do(chromedp.Navigate(scriptProbe))
		if title := b.title(); title != "scripts off" {
			t.Fatalf("JavaScript was back on in %s's tab by the end of the journey: title %q", who, title)
		}
	}
	t.Logf("review journey done in %v", time.Since(start).Round(time.Millisecond))
}

// newContext opens a tab in a browser context of its own: no cookies shared with the others.
func (j *reviewJourney) newContext(parent context.Context) *browserTab {
	j.t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	j.t.Cleanup(cancel)
	// The first Run on a context binds the tab's life to the context it is given: open the
	// tab here, unbounded, or it would close when newBrowserTab's 20-second step ends.
	if err := chromedp.Do(ctx); err != nil {
		j.t.Fatalf("opening a tab: %v", err)
	}
	return newBrowserTab(j.t, ctx, j.app)
}

// draftDemoEntry registers the complete demo entry slug for owner, fact sheet and risk
// assessment, and leaves it a draft: submitting it is the author's job in the browser.
func draftDemoEntry(t *testing.T, app *testApp, slug string, owner *auth.User) (*algorithms.Revision, algorithms.FactSheet) {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Slug != slug {
			continue
		}
		var sheet algorithms.FactSheet
		var answers risk.Answers
		if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e.Risk, &answers); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		by := algorithms.Actor{UserID: owner.ID, Email: owner.Email}
		_, rev, err := app.srv.Algorithms().CreateWithSlug(ctx, by, sheet, slug)
		if err != nil {
			t.Fatal(err)
		}
		if rev, err = app.srv.Algorithms().SaveRisk(ctx, rev.ID, rev.Version, answers, by); err != nil {
			t.Fatal(err)
		}
		return rev, sheet
	}
	t.Fatalf("no demo entry %s", slug)
	return nil, algorithms.FactSheet{}
}

// texts returns the text of every element sel finds, joined by a space.
func (b *browserTab) texts(sel string) string {
	b.t.Helper()
	js := fmt.Sprintf("Array.from(document.querySelectorAll(%q), e => e.textContent).join(' ')", sel)
	s, err := chromedp.Run(b.stepCtx(), chromedp.Evaluate[string](js))
	if err != nil {
		b.fail("texts of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// flash returns the flash message of the current page, or "".
func (b *browserTab) flash() string {
	b.t.Helper()
	if b.count(".flash") == 0 {
		return ""
	}
	return b.text(".flash")
}

// httpClient returns a plain HTTP client holding the tab's session cookie and the given
// page language: the same person, without the browser's forms.
func (b *browserTab) httpClient(app *testApp, lang string) *client {
	b.t.Helper()
	res, err := chromedp.Call(b.stepCtx(), network.GetCookies, network.GetCookiesParams{URLs: []string{b.base}})
	if err != nil {
		b.fail("reading cookies: %v", err)
	}
	for _, ck := range res.Cookies {
		if ck.Name == "session" {
			c := app.withCookie(ck.Value)
			u, _ := url.Parse(b.base)
			c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: lang, Path: "/"}})
			return c
		}
	}
	b.fail("the tab holds no session cookie")
	return nil
}

// authorSubmits: Laia finds her complete entry, may not open the review queue, and submits.
func (j *reviewJourney) authorSubmits() {
	laia := j.laia
	laia.signIn("laia@example.org")
	if status := laia.open("/review"); status != http.StatusForbidden {
		laia.fail("an author opened the review queue: status %d, want 403", status)
	}
	if got := laia.text("h1"); got != "You do not have permission to do that." {
		laia.fail("the refusal page reads %q", got)
	}
	laia.mustOpen(j.overview)
	if got := laia.text("#missing"); got != "Nothing is missing. This revision is complete." {
		laia.fail("#missing reads %q, want the complete note", got)
	}
	if status := laia.click(`form[action="` + j.overview + `/submit"] button[type=submit]`); status != 200 {
		laia.fail("submitting: status %d", status)
	}
	if laia.path() != j.overview {
		laia.fail("submitting led to %s, want the overview", laia.path())
	}
	if got := laia.flash(); got != "Submitted. The ethics committee has been told." {
		laia.fail("flash after submitting %q", got)
	}
	if laia.count(".badge.state-submitted") != 1 {
		laia.fail("the overview does not show the revision as submitted")
	}
	if laia.count(`form[action="`+j.overview+`/submit"]`) != 0 || laia.count(`a[href^="`+j.overview+`/edit/"]`) != 0 {
		laia.fail("a submitted revision still offers submitting or editing")
	}
}

// queueRow returns the normalised text of the queue's approvals cell for the revision, and
// whether its expert badge is still waiting (warn) for an expert.
func (j *reviewJourney) queueRow(b *browserTab) (approvals string, expertPending bool) {
	b.t.Helper()
	b.mustOpen("/review")
	row := fmt.Sprintf(`tr:has(a[href=%q])`, j.reviewURL)
	if b.count(row) != 1 {
		b.fail("the queue does not list revision %s:\n%s", j.revID, b.texts("main"))
	}
	cell := row + " td:nth-child(5)"
	if b.count(cell+" .badge") != 1 || b.text(cell+" .badge") != "expert" {
		b.fail("the queue row has no expert badge: %q", b.texts(cell))
	}
	return b.texts(cell), b.count(cell+" .badge.warn") == 1
}

// recordDecision picks decision on the open review page, types the rationale (and
// conditions) and records it; it returns the status of the page the form leads to.
func recordDecision(b *browserTab, decision, rationale, conditions string) int {
	b.t.Helper()
	b.tick(fmt.Sprintf(`#decision input[name=decision][value=%s]`, decision))
	if rationale != "" {
		b.fill("#f-rationale", rationale)
	}
	if conditions != "" {
		b.fill("#f-conditions", conditions)
	}
	return b.click(`#decision button[type=submit]`)
}

// reviewerRequestsChanges: Anna finds the entry in the queue, reads it and asks for changes.
func (j *reviewJourney) reviewerRequestsChanges() {
	anna := j.anna
	anna.signIn("anna@example.org")
	if cell, pending := j.queueRow(anna); cell != "0 / 2 expert" || !pending {
		anna.fail("queue approvals %q (expert pending %v), want \"0 / 2 expert\", pending", cell, pending)
	}
	if status := anna.click(fmt.Sprintf(`a[href=%q]`, j.reviewURL)); status != 200 || anna.path() != j.reviewURL {
		anna.fail("opening the revision from the queue: status %d", status)
	}
	name, _ := j.sheet.Name.In("en", j.sheet.Lang)
	if got := anna.texts("article.factsheet .fs-title"); got != name {
		anna.fail("the review page's fact sheet is titled %q, want %q", got, name)
	}
	if got := anna.texts("#your-rights"); !strings.Contains(got, "Social Services Centre") {
		anna.fail("the review page's fact sheet lacks the objection procedure:\n%s", got)
	}
	if status := recordDecision(anna, "request_changes", changesRationale, ""); status != 200 || anna.path() != "/review" {
		anna.fail("requesting changes: status %d", status)
	}
	if got := anna.flash(); got != "Changes requested. The authors have been told." {
		anna.fail("flash after requesting changes %q", got)
	}
}

// authorAnswers: Laia reads the committee's comment, adds to the objection procedure and
// submits again.
func (j *reviewJourney) authorAnswers() {
	laia := j.laia
	laia.mustOpen(j.overview)
	if laia.count(".badge.state-changes_requested") != 1 {
		laia.fail("the overview does not show that changes were requested")
	}
	if got := laia.text("#feedback"); got != "The ethics committee's comments" {
		laia.fail("the comments heading reads %q", got)
	}
	if got := laia.texts("#feedback + ol.history"); !strings.Contains(got, changesRationale) {
		laia.fail("the committee's comments lack the rationale %q:\n%s", changesRationale, got)
	}
	edit := j.overview + "/edit/oversight"
	if status := laia.click(fmt.Sprintf(`a[href=%q]`, edit)); status != 200 || laia.path() != edit {
		laia.fail("opening the oversight section: status %d", status)
	}
	old := laia.value("#f-objection_procedure")
	if want, _ := j.sheet.ObjectionProcedure.In(j.sheet.Lang); old != want {
		laia.fail("the form shows the objection procedure %q, want the original %q", old, want)
	}
	laia.fill("#f-objection_procedure", old+" "+addedObjection)
	if status := laia.click(`button[name=then][value=overview]`); status != 200 || laia.path() != j.overview {
		laia.fail("saving the oversight section: status %d", status)
	}
	if got := laia.text("#missing"); got != "Nothing is missing. This revision is complete." {
		laia.fail("after the edit #missing reads %q", got)
	}
	if status := laia.click(`form[action="` + j.overview + `/submit"] button[type=submit]`); status != 200 {
		laia.fail("submitting again: status %d", status)
	}
	if got := laia.flash(); got != "Submitted. The ethics committee has been told." || laia.count(".badge.state-submitted") != 1 {
		laia.fail("after submitting again: flash %q", got)
	}
}

// reviewerApproves: Anna sees what changed since her request, must give reasons, approves,
// and cannot approve twice.
func (j *reviewJourney) reviewerApproves() {
	anna := j.anna
	if cell, pending := j.queueRow(anna); cell != "0 / 2 expert" || !pending {
		anna.fail("queue approvals in the new round %q (expert pending %v), want \"0 / 2 expert\", pending", cell, pending)
	}
	if status := anna.click(fmt.Sprintf(`a[href=%q]`, j.reviewURL)); status != 200 {
		anna.fail("opening the resubmitted revision: status %d", status)
	}
	j.checkChangedSinceRound()
	if status := recordDecision(anna, "approve", "", ""); status != http.StatusUnprocessableEntity {
		anna.fail("approving without a rationale: status %d, want 422", status)
	}
	if got := anna.text("#decision .field-error"); got != "Explain the reasons for your decision." {
		anna.fail("the missing rationale is explained as %q", got)
	}
	if status := recordDecision(anna, "approve", annaRationale, ""); status != 200 || anna.path() != "/review" {
		anna.fail("approving: status %d", status)
	}
	if got := anna.flash(); got != "Approved. More approvals are needed before publication." {
		anna.fail("flash after the first approval %q", got)
	}
	anna.mustOpen(j.reviewURL)
	if got := anna.text("#decision"); !strings.Contains(got, "You have already decided on this round.") {
		anna.fail("after deciding, the decision card reads %q", got)
	}
	if n := anna.count(fmt.Sprintf(`form[action=%q]`, j.reviewURL+"/decision")); n != 0 {
		anna.fail("after deciding, the page still offers the decision form")
	}
	// The server refuses a second approval too, not only the page.
	res := anna.httpClient(j.app, "en").post(j.reviewURL+"/decision",
		url.Values{"decision": {"approve"}, "rationale": {annaRationale}})
	expectStatus(j.t, res, http.StatusConflict)
	if !strings.Contains(res.body, "You have already decided on this round.") {
		j.t.Errorf("a second approval is refused without saying why:\n%.600s", res.body)
	}
	if cell, pending := j.queueRow(anna); cell != "1 / 2 expert" || !pending {
		anna.fail("queue approvals after Anna %q (expert pending %v), want \"1 / 2 expert\", pending", cell, pending)
	}
}

// checkChangedSinceRound expects the open review page to show the author's added sentence as
// inserted words since the previous round. Anna reads the committee's pages in English while
// the entry's original is Catalan: a change to the original must show all the same. On
// failure it reports whether a Catalan reader would have seen it, and the journey goes on.
func (j *reviewJourney) checkChangedSinceRound() {
	anna := j.anna
	var problems []string
	if anna.count("#since-round") != 1 {
		problems = append(problems, `no "Changed since the previous round" section`)
	} else if got := anna.text("#since-round"); got != "Changed since the previous round" {
		problems = append(problems, fmt.Sprintf("the section is headed %q", got))
	}
	if ins := anna.texts("#since-round + .table-wrap ins"); !strings.Contains(ins, addedObjection) {
		problems = append(problems, fmt.Sprintf("inserted words %q lack %q", ins, addedObjection))
	}
	if len(problems) == 0 {
		return
	}
	ca := anna.httpClient(j.app, "ca").get(j.reviewURL).body
	_, since, _ := strings.Cut(ca, `id="since-round"`)
	since, _, _ = strings.Cut(since, "</table>")
	seenInCatalan := strings.Contains(since, "<ins>") && strings.Contains(since, template.HTMLEscapeString(addedObjection))
	j.t.Errorf("BUG: the review page in English hides the author's change to the Catalan original "+
		"(the same page in Catalan shows it as inserted words: %v):\n- %s", seenInCatalan, strings.Join(problems, "\n- "))
}

// notPublicYet: with one of two approvals the entry is on no public page, API included.
func (j *reviewJourney) notPublicYet() {
	anon := j.app.bareClient()
	expectStatus(j.t, anon.get(j.factSheet), http.StatusNotFound)
	expectStatus(j.t, anon.get("/api/v1/algorithms/"+reviewSlug), http.StatusNotFound)
	if status := j.citizen.open(j.factSheet); status != http.StatusNotFound {
		j.citizen.fail("the fact sheet answers %d before the expert's approval, want 404", status)
	}
}

// expertPublishes: Bernat, the external expert, approves with a public condition, which
// publishes the entry at once.
func (j *reviewJourney) expertPublishes() {
	bernat := j.bernat
	bernat.signIn("bernat@example.org")
	if cell, pending := j.queueRow(bernat); cell != "1 / 2 expert" || !pending {
		bernat.fail("queue approvals %q (expert pending %v), want \"1 / 2 expert\", pending", cell, pending)
	}
	if status := bernat.click(fmt.Sprintf(`a[href=%q]`, j.reviewURL)); status != 200 {
		bernat.fail("opening the revision: status %d", status)
	}
	if got := bernat.text("#decision h2"); got != "Decision" || bernat.count("#decision form") != 1 {
		bernat.fail("the expert is offered no decision form")
	}
	if status := recordDecision(bernat, "approve", bernatRationale, publicCondition); status != 200 || bernat.path() != "/review" {
		bernat.fail("the expert's approval: status %d", status)
	}
	if got := bernat.flash(); got != "Approved. The revision is now published." {
		bernat.fail("flash after the expert's approval %q", got)
	}
	if n := bernat.count(fmt.Sprintf(`a[href=%q]`, j.reviewURL)); n != 0 {
		bernat.fail("the queue still lists the published revision")
	}
}

// publicFactSheet: the citizen who was refused a moment ago now reads the fact sheet, with
// the committee's outcome and the author's added sentence.
func (j *reviewJourney) publicFactSheet() {
	citizen := j.citizen
	if status := citizen.open(j.factSheet); status != http.StatusOK {
		citizen.fail("the published fact sheet answers %d, want 200", status)
	}
	pub, err := j.app.srv.Review().PublicationOf(context.Background(), j.revID)
	if err != nil {
		j.t.Fatal(err)
	}
	if pub.Approvals != 2 {
		j.t.Errorf("publication records %d approvals, want 2", pub.Approvals)
	}
	cat, err := i18n.Load()
	if err != nil {
		j.t.Fatal(err)
	}
	outcome := cat.T(i18n.Catalan, "Approved by the ethics committee on %s with %d approval(s).",
		pub.PublishedAt.UTC().Format("2006-01-02"), 2)
	riskSection := citizen.texts("#risk")
	for _, want := range []string{outcome, publicCondition} {
		if !strings.Contains(riskSection, want) {
			citizen.fail("the risk section lacks %q:\n%s", want, riskSection)
		}
	}
	if got := citizen.texts("#your-rights"); !strings.Contains(got, addedObjection) {
		citizen.fail("the fact sheet lacks the sentence added during the review:\n%s", got)
	}
	api := j.app.bareClient().get("/api/v1/algorithms/" + reviewSlug)
	expectStatus(j.t, api, http.StatusOK)
	if !strings.Contains(api.body, publicCondition) {
		j.t.Errorf("the API's record lacks the public condition")
	}
	j.laia.mustOpen(j.overview)
	if j.laia.count(".badge.state-published") != 1 {
		j.laia.fail("the author's overview does not show the revision as published")
	}
}
