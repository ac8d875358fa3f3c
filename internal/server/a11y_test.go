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
	"github.com/chromedp/chromedp"

	"github.com/civictech/registry/internal/demo"
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
	axe   string
	pages int
	// Time spent loading pages, injecting axe-core and running it, for the log.
	loading, injecting, running time.Duration
}

// open loads path and fails the test unless the page answers want.
func (a *auditor) open(path string, want int) *network.Response {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, browserStep)
	defer cancel()
	began := time.Now()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(a.base+path))
	a.loading += time.Since(began)
	if err != nil {
		a.t.Fatalf("opening %s: %v", path, err)
	}
	if int(res.Status) != want {
		a.t.Fatalf("GET %s: status %d, want %d", path, res.Status, want)
	}
	return res
}

// audit injects axe-core into the current page and returns its violations as lines that
// name the page. The injection goes through the DevTools protocol (Runtime.evaluate), which
// the page's Content-Security-Policy does not govern: the pages themselves allow no inline
// or foreign script.
func (a *auditor) audit() []string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, browserStep)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		a.t.Fatalf("location: %v", err)
	}
	began := time.Now()
	ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](a.axe+"\n;typeof axe === 'object' && typeof axe.run === 'function'"))
	a.injecting += time.Since(began)
	if err != nil || !ready {
		a.t.Fatalf("at %s: injecting axe-core: ready %v, %v", loc, ready, err)
	}
	began = time.Now()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	a.running += time.Since(began)
	if err != nil {
		a.t.Fatalf("at %s: running axe-core: %v", loc, err)
	}
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
	ctx, cancel := context.WithTimeout(a.ctx, browserStep)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
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
	ctx, cancel := context.WithTimeout(a.ctx, browserStep)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		a.t.Fatalf("counting %s: %v", sel, err)
	}
	return n
}

// a11ySearch is a word of a published demo entry's name in each language.
var a11ySearch = map[i18n.Lang]string{i18n.Catalan: "soroll", i18n.Spanish: "ruido", i18n.English: "noise"}

// TestAccessibility runs axe-core's WCAG 2.2 AA rules in headless Chromium over every kind
// of public page, in the three languages, and requires zero violations. The demo entries
// are seeded through the workflow, so the pages show real histories, diffs and a retired entry.
func TestAccessibility(t *testing.T) {
	axe := loadAxe(t)
	start := time.Now()
	app := newTestApp(t)
	staff := app.seedDemo()
	ctx := newBrowser(t)
	a := &auditor{t: t, ctx: ctx, base: app.http.URL, axe: axe}
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
	if len(found) > 0 {
		t.Errorf("axe-core found %d WCAG 2.2 A/AA violation(s) on the public pages:\n  %s", len(found), strings.Join(found, "\n  "))
	}
	publicPages := a.pages
	t.Logf("public: %d pages audited in %v (loading %v, injecting axe %v, running axe %v)", publicPages,
		time.Since(start).Round(time.Millisecond), a.loading.Round(time.Millisecond), a.injecting.Round(time.Millisecond), a.running.Round(time.Millisecond))

	// The staff pages are not part of the public promise yet: report what axe finds there
	// without failing, so that it is seen.
	staffFound := auditStaff(a, app, staff)
	for _, f := range staffFound {
		t.Logf("staff page violation (not failing): %s", f)
	}
	t.Logf("staff: %d pages audited, %d violation(s); total %v", a.pages-publicPages, len(staffFound), time.Since(start).Round(time.Millisecond))
}

// auditPublic audits the public pages in language l: the home page, the index, search
// results, a fact sheet with its history, an old version and a diff, a retired entry, the
// feedback form (empty, with errors, and sent), the transparency log and a missing page.
func auditPublic(a *auditor, l i18n.Lang) []string {
	a.t.Helper()
	p := "/" + string(l)
	sheet := p + "/algorithms/deteccio-pobresa-energetica"
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

// auditStaff signs in as the demo's author, then its reviewer, through the browser's cookie
// jar and audits the workspace and review pages in each language.
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
	var found []string
	for _, who := range []struct {
		email string
		pages []string
	}{
		{staff.Authors[demo.Author].Email, []string{"/workspace", "/workspace/" + draft, "/workspace/" + draft + "/edit/basic",
			"/workspace/" + draft + "/edit/data", "/workspace/" + draft + "/risk", "/workspace/new"}},
		{staff.Reviewer.Email, []string{"/review", "/review/" + inReview}},
	} {
		c := app.client()
		if res := c.login(who.email, testPassword); res.StatusCode != 303 || c.sessionCookie() == "" {
			a.t.Fatalf("signing in as %s: status %d", who.email, res.StatusCode)
		}
		for _, l := range i18n.Langs {
			a.setCookies(c.sessionCookie(), l)
			for _, path := range who.pages {
				found = append(found, a.check(path, 200)...)
			}
		}
	}
	return found
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
