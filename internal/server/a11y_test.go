package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/departments"
	"github.com/civictech/registry/internal/i18n"
)

// axePath is axe-core as tools/a11y/package-lock.json pins it; `make deps` installs it.
var axePath = filepath.Join("..", "..", "tools", "a11y", "node_modules", "axe-core", "axe.min.js")

// axeRun runs the WCAG 2.0, 2.1 and 2.2 level A and AA rules of axe-core on the page and
// returns the violations, trimmed to what a failure message needs.
const axeRun = `axe.run(document, {
  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
  resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact || '', help: v.help, count: v.nodes.length,
  nodes: v.nodes.slice(0, 3).map(n => ({target: n.target.flat(Infinity).join(' '), html: n.html})),
})))`

// brokenRefs lists the ARIA references to ids the page lacks. axe-core only flags an
// attribute none of whose ids exist; one missing id of several it leaves for review.
const brokenRefs = `[...document.querySelectorAll('[aria-describedby], [aria-labelledby], [aria-controls]')].flatMap(e =>
  ['aria-describedby', 'aria-labelledby', 'aria-controls'].flatMap(attr => (e.getAttribute(attr) || '').split(/\s+/)
    .filter(id => id && !document.getElementById(id))
    .map(id => ({id: 'missing-idref', impact: 'moderate', help: attr + ' names #' + id + ', which the page lacks', count: 1,
      nodes: [{target: e.id ? '#' + e.id : e.tagName.toLowerCase(), html: e.outerHTML}]}))))`

// axeViolation is one rule that failed on a page, with its first offending elements.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Count  int    `json:"count"`
	Nodes  []struct {
		Target string `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s; %d element(s)", v.ID, v.Impact, v.Help, v.Count)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %s\n        %.300s", n.Target, n.HTML)
	}
	return b.String()
}

// loadAxe returns the axe-core script. Without it the test skips on a developer's machine,
// saying how to install it, and fails in CI, whose `make test` installs it first.
func loadAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "" {
			t.Skip("axe-core is not installed: run `make deps` (or `cd tools/a11y && npm ci`)")
		}
		t.Fatalf("axe-core is not installed at %s: `make test` runs `make deps` first", axePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// auditor runs axe-core in one browser tab, page after page.
type auditor struct {
	t     *testing.T
	ctx   context.Context
	base  string
	pages int
	// Time spent loading pages and running axe-core, for the log.
	loading, running time.Duration
}

// newAuditor has the browser add axe-core to every document the tab loads. It goes through
// the DevTools protocol, which the page's Content-Security-Policy does not govern: the
// pages themselves allow no inline or foreign script. (Evaluated once per document rather
// than sent with each audit: that halves the time the injection takes.)
func newAuditor(t *testing.T, ctx context.Context, app *testApp, axe string) *auditor {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: axe}); err != nil {
		t.Fatalf("adding axe-core to the tab: %v", err)
	}
	return &auditor{t: t, ctx: ctx, base: app.http.URL}
}

func (a *auditor) stepCtx() context.Context {
	ctx, cancel := context.WithTimeout(a.ctx, browserStep)
	a.t.Cleanup(cancel)
	return ctx
}

// open loads path and fails the test unless the page answers want.
func (a *auditor) open(path string, want int) *network.Response {
	a.t.Helper()
	began := time.Now()
	res, err := chromedp.Run(a.stepCtx(), chromedp.NavigateResponse(a.base+path))
	a.loading += time.Since(began)
	if err != nil {
		a.t.Fatalf("opening %s: %v", path, err)
	}
	if int(res.Status) != want {
		a.t.Fatalf("GET %s: status %d, want %d", path, res.Status, want)
	}
	return res
}

// audit runs axe-core on the current page and returns its violations as lines that name
// the page.
func (a *auditor) audit() []string {
	a.t.Helper()
	ctx := a.stepCtx()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		a.t.Fatalf("location: %v", err)
	}
	// Fails if the page's policy had kept axe-core out.
	ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("typeof axe === 'object' && typeof axe.run === 'function'"))
	if err != nil || !ready {
		a.t.Fatalf("at %s: axe-core is not in the page (ready %v, %v)", loc, ready, err)
	}
	began := time.Now()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	a.running += time.Since(began)
	if err != nil {
		a.t.Fatalf("at %s: running axe-core: %v", loc, err)
	}
	broken, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](brokenRefs))
	if err != nil {
		a.t.Fatalf("at %s: checking ARIA references: %v", loc, err)
	}
	found = append(found, broken...)
	a.pages++
	path := strings.TrimPrefix(loc, a.base)
	lines := make([]string, len(found))
	for i, v := range found {
		lines[i] = fmt.Sprintf("%s\n    %s", path, v)
	}
	return lines
}

// check opens path, expects status want and audits the page.
func (a *auditor) check(path string, want int) []string {
	a.t.Helper()
	a.open(path, want)
	return a.audit()
}

// submit clicks the button sel finds, expects the page it leads to to answer want, and
// audits that page.
func (a *auditor) submit(sel string, want int) []string {
	a.t.Helper()
	res, err := chromedp.RunResponse(a.stepCtx(), chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		a.t.Fatalf("clicking %s: %v", sel, err)
	}
	if int(res.Status) != want {
		a.t.Fatalf("clicking %s: status %d, want %d", sel, res.Status, want)
	}
	return a.audit()
}

// count returns how many elements sel finds on the current page.
func (a *auditor) count(sel string) int {
	a.t.Helper()
	n, err := chromedp.Run(a.stepCtx(), chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		a.t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

// a11ySearch is a word of a published demo entry's name in each language.
var a11ySearch = map[i18n.Lang]string{i18n.Catalan: "soroll", i18n.Spanish: "ruido", i18n.English: "noise"}

// a11ySheet is a published demo entry with three revisions.
const a11ySheet = "/algorithms/deteccio-pobresa-energetica"

// TestAccessibility runs axe-core's WCAG 2.2 A and AA rules in headless Chromium over every
// kind of public page in the three languages, a few of them again on a 320-pixel-wide
// screen (reflow), and over the staff pages, and requires zero violations. The demo entries
// are seeded through the workflow, so the pages show real histories, diffs, a retired
// entry, a draft and a revision in review.
func TestAccessibility(t *testing.T) {
	axe := loadAxe(t)
	start := time.Now()
	app := newTestApp(t)
	staff := app.seedDemo()
	a := newAuditor(t, newBrowser(t), app, axe)
	t.Logf("demo seeded and browser ready after %v", time.Since(start).Round(time.Millisecond))

	// axe-core must run although the page's policy forbids every script but the site's own.
	res := a.open("/ca/", 200)
	if csp, _ := res.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the home page's Content-Security-Policy %q does not forbid inline script; the test would not prove the injection works under it", csp)
	}

	var found []string
	for _, l := range i18n.Langs {
		found = append(found, auditPublic(a, l)...)
	}
	found = append(found, auditNarrow(a)...)
	if len(found) > 0 {
		t.Errorf("axe-core found %d WCAG 2.2 A/AA violation(s) on the public pages:\n  %s", len(found), strings.Join(found, "\n  "))
	}
	public := a.pages
	t.Logf("public: %d pages audited after %v", public, time.Since(start).Round(time.Millisecond))

	if found := auditStaff(a, app, staff); len(found) > 0 {
		t.Errorf("axe-core found %d WCAG 2.2 A/AA violation(s) on the staff pages:\n  %s", len(found), strings.Join(found, "\n  "))
	}
	t.Logf("staff: %d pages audited; %d pages in %v (loading %v, axe-core %v)", a.pages-public, a.pages,
		time.Since(start).Round(time.Millisecond), a.loading.Round(time.Millisecond), a.running.Round(time.Millisecond))
}

// auditPublic audits the public pages in language l: the home page, the index, search
// results, a fact sheet with its history, an old version and a diff, a retired entry, the
// feedback form (empty, with errors, and sent), the transparency log and a missing page.
func auditPublic(a *auditor, l i18n.Lang) []string {
	a.t.Helper()
	p := "/" + string(l)
	sheet := p + a11ySheet
	var found []string
	found = append(found, a.check(p+"/", 200)...)
	found = append(found, a.check(p+"/algorithms", 200)...)
	found = append(found, a.check(p+"/algorithms?q="+a11ySearch[l], 200)...)
	if n := a.count(".result-list .result"); n == 0 {
		a.t.Fatalf("searching %q in %s found nothing; the test audits a page of results", a11ySearch[l], l)
	}
	found = append(found, a.check(sheet, 200)...)
	found = append(found, a.check(sheet+"/versions", 200)...)
	found = append(found, a.check(sheet+"/versions/1", 200)...)
	found = append(found, a.check(sheet+"/diff/1..2", 200)...)
	found = append(found, a.check(p+"/algorithms/pilot-ocupacio-carrega-descarrega-cameres", 200)...)
	found = append(found, a.check(sheet+"/feedback", 200)...)
	// Sent empty, the form comes back with its error summary and field errors.
	found = append(found, a.submit(`form[method=post] button[type=submit]`, 422)...)
	if a.count(".error-summary") != 1 {
		a.t.Fatalf("the feedback form sent empty shows no error summary")
	}
	found = append(found, a.check(sheet+"/feedback/sent", 200)...)
	found = append(found, a.check(p+"/log", 200)...)
	found = append(found, a.check(p+"/algorithms/no-such-algorithm", 404)...)
	return found
}

// auditNarrow audits the widest public pages on a screen 320 CSS pixels wide, where WCAG
// 1.4.10 wants content to reflow: a table or block that scrolls there instead must be
// reachable with the keyboard.
func auditNarrow(a *auditor) []string {
	a.t.Helper()
	if err := chromedp.Do(a.stepCtx(), chromedp.EmulateViewport(320, 640)); err != nil {
		a.t.Fatalf("narrowing the screen: %v", err)
	}
	defer func() {
		if err := chromedp.Do(a.stepCtx(), chromedp.EmulateViewport(1280, 900)); err != nil {
			a.t.Fatalf("widening the screen: %v", err)
		}
	}()
	var found []string
	for _, path := range []string{"/ca/algorithms", "/ca" + a11ySheet, "/ca" + a11ySheet + "/versions",
		"/ca" + a11ySheet + "/diff/1..3", "/ca/log"} {
		found = append(found, a.check(path, 200)...)
	}
	return found
}

// auditStaff signs in as the demo's author, then its reviewer, and audits the workspace
// and review pages, in Catalan only: their markup does not change with the language.
func auditStaff(a *auditor, app *testApp, staff demo.Staff) []string {
	a.t.Helper()
	ctx := context.Background()
	var draft, inReview string
	if err := app.pool.QueryRow(ctx, `SELECT id FROM algorithms WHERE slug = 'reequilibri-estacions-bicing'`).Scan(&draft); err != nil {
		a.t.Fatal(err)
	}
	if err := app.pool.QueryRow(ctx, `SELECT r.id FROM revisions r JOIN algorithms a ON a.id = r.algorithm_id
		WHERE a.slug = 'previsio-impagament-tributs' ORDER BY r.number DESC LIMIT 1`).Scan(&inReview); err != nil {
		a.t.Fatal(err)
	}
	ws := "/workspace/" + draft
	var found []string
	// A department on the data office's list, so that the forms offer it (a datalist).
	if _, err := app.srv.Departments().Add(ctx, map[string]string{"ca": "Parcs i Jardins", "es": "Parques y Jardines",
		"en": "Parks and Gardens"}, departments.Actor{Email: "a11y"}); err != nil {
		a.t.Fatal(err)
	}
	a.signIn(app, staff.Authors[demo.Author].Email)
	for _, path := range []string{"/workspace", ws, ws + "/edit/basic", ws + "/edit/data", ws + "/risk", ws + "/preview", "/workspace/new"} {
		found = append(found, a.check(path, 200)...)
	}
	// Forms sent back with errors: the summary and the fields' messages.
	found = append(found, a.submit(`form[action="/workspace/new"] button[type=submit]`, 422)...)
	a.open(ws+"/edit/basic", 200)
	if err := chromedp.Do(a.stepCtx(), chromedp.SetValue(chromedp.CSS("#f-contact_email"), "not an address")); err != nil {
		a.t.Fatalf("typing a wrong e-mail address: %v", err)
	}
	found = append(found, a.submit(`button[name=then][value=overview]`, 422)...)
	if a.count(`#f-contact_email[aria-describedby~="f-contact_email-error"]`) != 1 {
		a.t.Errorf("the e-mail field with an error is not described by its message")
	}
	a.signIn(app, staff.Reviewer.Email)
	for _, path := range []string{"/review", "/review/" + inReview} {
		found = append(found, a.check(path, 200)...)
	}
	// The data office's departments, and their form sent back with errors.
	app.user("a11y-admin@example.org", auth.RoleAdmin)
	a.signIn(app, "a11y-admin@example.org")
	for _, path := range []string{"/admin", "/admin/departments"} {
		found = append(found, a.check(path, 200)...)
	}
	found = append(found, a.submit(`form[action="/admin/departments"] button[type=submit]`, 422)...)
	return found
}

// signIn gives the browser the session of email, and Catalan pages.
func (a *auditor) signIn(app *testApp, email string) {
	a.t.Helper()
	c := app.client()
	if res := c.login(email, testPassword); res.StatusCode != 303 || c.sessionCookie() == "" {
		a.t.Fatalf("signing in as %s: status %d", email, res.StatusCode)
	}
	a.setCookies(c.sessionCookie(), i18n.Catalan)
}

// setCookies gives the browser a session and a language for the staff pages.
func (a *auditor) setCookies(session string, l i18n.Lang) {
	a.t.Helper()
	for name, value := range map[string]string{"session": session, "lang": string(l)} {
		if _, err := chromedp.Call(a.ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: a.base, Path: "/"}); err != nil {
			a.t.Fatalf("setting the %s cookie: %v", name, err)
		}
	}
}
