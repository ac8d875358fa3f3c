package server

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/i18n"
)

// browserStep bounds one browser action, so that a page that never loads fails the test
// quickly instead of running into the test binary's timeout.
const browserStep = 20 * time.Second

// newBrowser starts headless Chromium for one test and returns its first tab. It skips the
// test when Chromium is not installed, except in CI, whose script installs it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("chromium is not installed; the browser tests need it (CI installs it)")
		}
		t.Fatalf("chromium is not installed: %v", err)
	}
	// The profile directory is made before the allocator's cleanup is registered, so that
	// Chromium has exited (cleanups run last first) before the directory is removed.
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser, bound to ctx only
		t.Fatalf("starting chromium: %v", err)
	}
	return tabCtx
}

// browserTab is one browser tab on the test application, with JavaScript off and English pages.
type browserTab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// scriptProbe is a page that retitles itself when scripts run.
const scriptProbe = `data:text/html,<title>scripts off</title><script>document.title="scripts on"</script>`

// newBrowserTab prepares the tab of ctx: scripts disabled, then a lang=en cookie for the site, so
// the checks on texts below do not depend on the Catalan catalogue.
func newBrowserTab(t *testing.T, ctx context.Context, app *testApp) *browserTab {
	t.Helper()
	b := &browserTab{t: t, ctx: ctx, base: app.http.URL}
	// Open the tab without a deadline: chromedp ties a tab's life to the context of its
	// first action, so a timed first action would close the tab when it expires.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disabling JavaScript: %v", err)
	}
	// Prove that the page really runs no script: this page would retitle itself.
	b.do(chromedp.Navigate(scriptProbe))
	if title := b.title(); title != "scripts off" {
		t.Fatalf("JavaScript still runs in the tab: title %q", title)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "lang", Value: "en", URL: app.http.URL, Path: "/"}); err != nil {
		t.Fatalf("setting the lang cookie: %v", err)
	}
	return b
}

func (b *browserTab) fail(format string, args ...any) {
	b.t.Helper()
	loc, _ := chromedp.Run(b.stepCtx(), chromedp.Location())
	b.t.Fatalf("at %s: %s", loc, fmt.Sprintf(format, args...))
}

func (b *browserTab) stepCtx() context.Context {
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	b.t.Cleanup(cancel)
	return ctx
}

// do runs actions that return nothing.
func (b *browserTab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.stepCtx(), actions...); err != nil {
		b.fail("%v", err)
	}
}

// open loads path and returns the HTTP status of the page.
func (b *browserTab) open(path string) int {
	b.t.Helper()
	res, err := chromedp.Run(b.stepCtx(), chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fail("opening %s: %v", path, err)
	}
	return int(res.Status)
}

// mustOpen loads path and expects 200.
func (b *browserTab) mustOpen(path string) {
	b.t.Helper()
	if status := b.open(path); status != 200 {
		b.fail("GET %s: status %d, want 200", path, status)
	}
}

// click clicks what sel finds, waits for the page it leads to and returns its status (after
// redirects, the status of the last page).
func (b *browserTab) click(sel string) int {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.stepCtx(), chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.fail("clicking %s: %v", sel, err)
	}
	return int(res.Status)
}

// tick clicks a checkbox or radio button (no page load follows).
func (b *browserTab) tick(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill types text into the field sel finds, replacing what was there: Ctrl+A selects the
// old text, and the new text replaces it as one input event, as from a paste.
func (b *browserTab) fill(sel, text string) {
	b.t.Helper()
	b.do(chromedp.Focus(chromedp.CSS(sel)), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		selectAll := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Modifiers: 2,
			Key: "a", Code: "KeyA", WindowsVirtualKeyCode: 65, Commands: []string{"selectAll"}}
		if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, selectAll); err != nil {
			return err
		}
		selectAll.Type, selectAll.Commands = input.DispatchKeyEventTypeKeyUp, nil
		if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, selectAll); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
	if got := b.value(sel); got != text {
		b.fail("field %s holds %q after typing %q", sel, got, text)
	}
}

// typeKeys types text key by key.
func (b *browserTab) typeKeys(sel, text string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks the option with value v in the select (or sets a date field).
func (b *browserTab) choose(sel, v string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), v))
	if got := b.value(sel); got != v {
		b.fail("field %s holds %q, want %q (no such option?)", sel, got, v)
	}
}

func (b *browserTab) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.stepCtx(), chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.fail("value of %s: %v", sel, err)
	}
	return v
}

func (b *browserTab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.stepCtx(), chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

func (b *browserTab) title() string {
	b.t.Helper()
	v, err := chromedp.Run(b.stepCtx(), chromedp.Title())
	if err != nil {
		b.fail("title: %v", err)
	}
	return v
}

// count returns how many elements sel finds, without waiting for one to appear.
func (b *browserTab) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.stepCtx(), chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.fail("counting %s: %v", sel, err)
	}
	return n
}

// path returns the path of the current page.
func (b *browserTab) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.stepCtx(), chromedp.Location())
	if err != nil {
		b.fail("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fail("location %q: %v", loc, err)
	}
	return u.Path
}

// signIn signs in through the login form, typing like a person.
func (b *browserTab) signIn(email string) {
	b.t.Helper()
	b.mustOpen("/login")
	b.typeKeys("#f-email", email)
	b.typeKeys("#f-password", testPassword)
	if status := b.click(`form[action="/login"] button[type=submit]`); status != 200 {
		b.fail("signing in as %s: status %d", email, status)
	}
	if p := b.path(); p == "/login" || strings.HasPrefix(p, "/login/") {
		b.fail("still on the sign-in page after signing in as %s", email)
	}
}

// journeyEntry is the entry an author registers in the journey, in Catalan as the city writes it.
var journeyEntry = struct {
	name, short, org, dept                               string
	email, contactName, website, keywords, startDate     string
	goal, decision, impact, proportionality, lawfulBasis string
	linkTitle, linkURL, alternatives                     string
	training, source, connected, bias                    string
	dsName, dsDescription, dsOwner, dsRetention          string
	description, methods, supplier                       string
	risks, mitigations, iaSummary, iaURL, iaDate         string
	humanIntervention, monitoring, objection, rollback   string
	limitations, revisionNote                            string
	goalMarc, goalLaia                                   string
}{
	name:        "Detecció d'habitatges buits per a inspecció",
	short:       "Ordena els habitatges que probablement estan buits perquè la inspecció d'habitatge decideixi quins visitar primer.",
	org:         "Ajuntament de Barcelona",
	dept:        "Gerència d'Habitatge",
	email:       "habitatge.dades@example.org",
	contactName: "Oficina de Dades d'Habitatge",
	website:     "https://ajuntament.barcelona.cat/habitatge/ca/habitatges-buits",
	keywords:    "habitatge, habitatges buits, inspecció",
	startDate:   "2024-03-01",
	goal: "Detectar els habitatges que fa més de dos anys que estan buits sense causa justificada, " +
		"per mobilitzar-los cap al lloguer assequible.",
	decision: "El model proposa una llista ordenada d'habitatges. Una inspectora revisa cada cas i " +
		"decideix si cal fer una visita; cap sanció es deriva directament del model.",
	impact: "Afecta les persones propietàries d'habitatges a la ciutat. Un error pot comportar una " +
		"visita d'inspecció innecessària, però mai una sanció automàtica.",
	proportionality: "La inspecció manual de tot el parc és inviable; el model concentra les visites " +
		"on és més probable trobar habitatges buits i redueix les molèsties a la resta.",
	lawfulBasis: "Llei 18/2007, del dret a l'habitatge, articles 41 i 42, i article 6.1.e del RGPD " +
		"(missió d'interès públic).",
	linkTitle:    "Llei 18/2007, del dret a l'habitatge",
	linkURL:      "https://portaljuridic.gencat.cat/ca/document-del-pjur/?documentId=442500",
	alternatives: "Es va considerar fer inspeccions aleatòries, però trobaven molts menys habitatges buits.",
	training: "Registres de consum d'aigua del 2019 al 2023 i resultats de 4.200 inspeccions " +
		"anteriors, anonimitzats.",
	source:      "Consum d'aigua trimestral, padró municipal agregat per finca i cadastre.",
	connected:   "Sistema de gestió de la inspecció d'habitatge (GIH).",
	bias:        "Les finques amb comptadors col·lectius hi són poc representades.",
	dsName:      "Consum d'aigua per habitatge",
	dsOwner:     "Aigües de Barcelona",
	dsRetention: "Cinc anys",
	dsDescription: "Lectures trimestrals de comptador per a cada habitatge amb comptador " +
		"individual.",
	description: "El sistema combina tres fonts de dades per estimar la probabilitat que un habitatge " +
		"estigui buit. Primer, calcula per a cada habitatge el consum d'aigua dels darrers vuit " +
		"trimestres i el compara amb el d'habitatges semblants de la mateixa finca. Segon, comprova " +
		"si al padró municipal hi consta alguna persona empadronada. Tercer, té en compte l'ús que " +
		"el cadastre assigna a l'immoble. Amb aquestes variables, un model de regressió logística " +
		"entrenat amb els resultats d'inspeccions anteriors dona a cada habitatge una puntuació entre " +
		"0 i 1. Els habitatges amb una puntuació superior a 0,8 passen a una llista que l'equip " +
		"d'inspecció revisa cada mes. La llista no conté noms de persones, només l'adreça i la " +
		"puntuació, i cada inspectora pot descartar un cas si té informació que el model no coneix.",
	methods:  "Regressió logística amb regularització L2, reentrenada cada any.",
	supplier: "Institut Municipal d'Informàtica",
	risks: "Que el model assenyali habitatges ocupats per persones amb consum molt baix, com gent gran " +
		"que viu sola, i que això comporti visites innecessàries.",
	mitigations: "Una inspectora revisa cada cas abans de cap visita i es mesura cada trimestre la " +
		"taxa d'encerts per barris.",
	iaSummary: "Avaluació d'impacte relativa a la protecció de dades feta pel Delegat de Protecció de Dades.",
	iaURL:     "https://ajuntament.barcelona.cat/dades/avaluacio-impacte-habitatges-buits",
	iaDate:    "2024-01-15",
	humanIntervention: "Cada cas de la llista el revisa una inspectora, que decideix si es fa la visita " +
		"i pot descartar-lo sense justificar-ho davant del model.",
	monitoring: "Cada trimestre es compara la llista amb el resultat de les inspeccions i es publica " +
		"la taxa d'encerts.",
	objection: "Qualsevol persona propietària pot demanar a l'Oficina d'Habitatge que es revisi el seu " +
		"cas i presentar al·legacions abans de cap procediment.",
	rollback:     "Si el model falla, la inspecció torna a la planificació manual per barris.",
	limitations:  "No es publiquen els pesos del model per evitar que es pugui eludir la detecció.",
	revisionNote: "Primera versió de la fitxa.",
	goalMarc:     "Objectiu revisat per en Marc: prioritzar els habitatges buits de grans tenidors.",
	goalLaia:     "Objectiu revisat per la Laia: mobilitzar els habitatges buits cap al lloguer social.",
}

// fillSection fills the form of one section with journeyEntry.
func (b *browserTab) fillSection(section string) {
	b.t.Helper()
	j := journeyEntry
	switch section {
	case "basic":
		b.fill("#f-contact_email", j.email)
		b.fill("#f-contact_name", j.contactName)
		b.choose("#f-domain", "housing, living and living environment")
		b.choose("#f-status", "pilot")
		b.fill("#f-website", j.website)
		b.choose("#f-start_date", j.startDate)
		b.fill("#f-keywords", j.keywords)
	case "use":
		b.fill("#f-goal", j.goal)
		b.fill("#f-decision_making_process", j.decision)
		b.fill("#f-impact", j.impact)
		b.fill("#f-proportionality", j.proportionality)
		b.fill("#f-lawful_basis", j.lawfulBasis)
		b.fill(`[id="f-lawful_basis_links.0.title"]`, j.linkTitle)
		b.fill(`[id="f-lawful_basis_links.0.url"]`, j.linkURL)
		b.fill("#f-alternatives_considered", j.alternatives)
	case "data":
		b.fill("#f-training_data", j.training)
		b.fill("#f-source_data", j.source)
		b.fill("#f-connected_data_sources", j.connected)
		b.fill("#f-data_bias", j.bias)
		b.fill(`[id="f-data_sources.0.name"]`, j.dsName)
		b.fill(`[id="f-data_sources.0.description"]`, j.dsDescription)
		b.tick(`[id="f-data_sources.0.personal_data"]`)
		b.fill(`[id="f-data_sources.0.owner"]`, j.dsOwner)
		b.fill(`[id="f-data_sources.0.retention"]`, j.dsRetention)
	case "algorithm":
		b.choose("#f-algorithm_type", "self-learning")
		b.choose("#f-type", "predictive")
		b.fill("#f-description", j.description)
		b.fill("#f-methods_and_models", j.methods)
		b.fill(`[id="f-supplier.name"]`, j.supplier)
	case "risk":
		b.fill("#f-risks", j.risks)
		b.fill("#f-mitigations", j.mitigations)
		b.choose(`[id="f-impact_assessments.0.kind"]`, "DPIA")
		b.tick(`[id="f-impact_assessments.0.done"]`)
		b.choose(`[id="f-impact_assessments.0.date"]`, j.iaDate)
		b.fill(`[id="f-impact_assessments.0.summary"]`, j.iaSummary)
		b.fill(`[id="f-impact_assessments.0.url"]`, j.iaURL)
	case "oversight":
		b.fill("#f-human_intervention", j.humanIntervention)
		b.fill("#f-monitoring", j.monitoring)
		b.fill("#f-objection_procedure", j.objection)
		b.fill("#f-rollback", j.rollback)
	case "transparency":
		b.fill("#f-transparency_limitations", j.limitations)
		b.fill("#f-revision_note", j.revisionNote)
	default:
		b.t.Fatalf("no test data for section %q", section)
	}
}

// missingItems returns the overview's list of what is still missing.
func (b *browserTab) missingItems() []string {
	b.t.Helper()
	n := b.count("#missing li")
	items := make([]string, n)
	for i := range n {
		items[i] = b.text(fmt.Sprintf("#missing li:nth-child(%d)", i+1))
	}
	return items
}

// TestAuthorJourneyWithoutJavaScript walks an author through registering an algorithm in a
// real browser with JavaScript off: every form, button and link must work as plain HTML.
func TestAuthorJourneyWithoutJavaScript(t *testing.T) {
	start := time.Now()
	app := newTestApp(t)
	app.user("laia@example.org", auth.RoleAuthor)
	app.user("marc@example.org", auth.RoleAuthor)
	ctx := newBrowser(t)
	laia := newBrowserTab(t, ctx, app)
	t.Logf("browser ready after %v", time.Since(start).Round(time.Millisecond))

	laia.signIn("laia@example.org")

	// 1. Register the algorithm from the workspace.
	laia.mustOpen("/workspace")
	if got := laia.text(`a[href="/workspace/new"]`); got != "Register an algorithm" {
		t.Fatalf("workspace link reads %q", got)
	}
	if status := laia.click(`a[href="/workspace/new"]`); status != 200 {
		laia.fail("new entry page: status %d", status)
	}
	laia.choose("#f-lang", "ca")
	laia.fill("#f-name", journeyEntry.name)
	laia.fill("#f-description_short", journeyEntry.short)
	laia.fill("#f-organization", journeyEntry.org)
	laia.fill("#f-department", journeyEntry.dept)
	if status := laia.click(`form[action="/workspace/new"] button[type=submit]`); status != 200 {
		laia.fail("creating the entry: status %d", status)
	}
	id, ok := strings.CutPrefix(laia.path(), "/workspace/")
	if !ok || id == "" || strings.Contains(id, "/") {
		laia.fail("after creating, landed on %s, want the entry's overview", laia.path())
	}
	overview := "/workspace/" + id
	if got := laia.text("h1"); got != journeyEntry.name {
		laia.fail("overview heading %q, want the name %q", got, journeyEntry.name)
	}
	missing := laia.missingItems()
	first := len(missing)
	if first == 0 {
		laia.fail("a new entry lists nothing missing")
	}
	t.Logf("new entry: %d missing items", first)

	// 2. Fill every section; the list of what is missing never grows.
	for _, section := range []string{"basic", "use", "data", "algorithm", "risk", "oversight", "transparency"} {
		laia.mustOpen(overview + "/edit/" + section)
		laia.fillSection(section)
		if status := laia.click(`button[name=then][value=overview]`); status != 200 {
			laia.fail("saving %s: status %d", section, status)
		}
		if laia.path() != overview {
			laia.fail("saving %s led to %s, want the overview", section, laia.path())
		}
		if n := laia.count(".error-summary"); n != 0 {
			laia.fail("saving %s: the page shows an error summary: %s", section, laia.text(".error-summary"))
		}
		now := laia.missingItems()
		if len(now) > len(missing) {
			laia.fail("after saving %s, %d items are missing, more than the %d before:\n%s",
				section, len(now), len(missing), strings.Join(now, "\n"))
		}
		if n := laia.count(fmt.Sprintf(`#missing a[href*="/edit/%s?"]`, section)); n != 0 {
			laia.fail("after filling every required field of %s, the overview still lists %d of them as missing:\n%s",
				section, n, strings.Join(now, "\n"))
		}
		missing = now
	}
	if len(missing) >= first {
		t.Fatalf("after filling every section %d items are missing, no fewer than the %d at the start", len(missing), first)
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "Risk assessment") {
		t.Fatalf("after every section, missing %q; want only the risk assessment", missing)
	}

	// Everything typed, picked and ticked arrived, rows included.
	sheet, _ := wsSheet(t, app, id)
	j := journeyEntry
	for _, c := range []struct{ field, got, want string }{
		{"name", sheet.Name["ca"], j.name},
		{"description_short", sheet.DescriptionShort["ca"], j.short},
		{"department", sheet.Department["ca"], j.dept},
		{"contact_email", sheet.ContactEmail, j.email},
		{"domain", sheet.Domain, "housing, living and living environment"},
		{"status", sheet.Status, "pilot"},
		{"start_date", sheet.StartDate, j.startDate},
		{"website", sheet.Website, j.website},
		{"keywords", strings.Join(sheet.Keywords, ", "), j.keywords},
		{"goal", sheet.Goal["ca"], j.goal},
		{"lawful_basis_links", fmt.Sprint(sheet.LawfulBasisLinks), fmt.Sprint([]algorithms.Link{{Title: j.linkTitle, URL: j.linkURL}})},
		{"connected_data_sources", sheet.ConnectedDataSources["ca"], j.connected},
		{"data_sources", fmt.Sprint(len(sheet.DataSources)), "1"},
		{"algorithm_type", sheet.AlgorithmType, "self-learning"},
		{"type", sheet.Type, "predictive"},
		{"description", sheet.Description["ca"], j.description},
		{"supplier.name", sheet.Supplier.Name, j.supplier},
		{"impact_assessments", fmt.Sprint(len(sheet.ImpactAssessments)), "1"},
		{"human_intervention", sheet.HumanIntervention["ca"], j.humanIntervention},
		{"revision_note", sheet.RevisionNote["ca"], j.revisionNote},
	} {
		if c.got != c.want {
			t.Errorf("stored %s %q, want %q", c.field, c.got, c.want)
		}
	}
	if len(sheet.DataSources) == 1 {
		ds := sheet.DataSources[0]
		if ds.Name["ca"] != j.dsName || !ds.PersonalData || ds.Owner != j.dsOwner || ds.Retention["ca"] != j.dsRetention {
			t.Errorf("stored data source %+v", ds)
		}
	}
	if len(sheet.ImpactAssessments) == 1 {
		ia := sheet.ImpactAssessments[0]
		if ia.Kind != "DPIA" || !ia.Done || ia.Date != j.iaDate || ia.URL != j.iaURL || ia.Summary["ca"] != j.iaSummary {
			t.Errorf("stored impact assessment %+v", ia)
		}
	}

	// 3. The risk assessment: no to everything but one Article 50 case, first choices.
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	laia.mustOpen(overview + "/risk")
	for _, q := range defs.Checklist.Questions() {
		answer := "no"
		if q.ID == defs.Checklist.Transparency[0].ID {
			answer = "yes"
		}
		laia.tick(fmt.Sprintf(`input[name="checklist.%s"][value=%s]`, q.ID, answer))
	}
	for _, q := range defs.Impact.Questions {
		laia.tick(fmt.Sprintf(`input[name="impact.%s"][value="%s"]`, q.ID, q.Choices[0].ID))
	}
	if status := laia.click(`form[action="` + overview + `/risk"] button[type=submit]`); status != 200 {
		laia.fail("saving the risk assessment: status %d", status)
	}
	if got := laia.text("#result"); !strings.Contains(got, "limited risk") {
		laia.fail("risk result %q, want limited risk (an Article 50 case)", got)
	}
	laia.mustOpen(overview)
	if n := laia.count("#missing li"); n != 0 {
		laia.fail("after the risk assessment %d items are still missing: %q", n, laia.missingItems())
	}
	if n := laia.count("p.ok-note#missing"); n != 1 {
		laia.fail("the overview does not say that nothing is missing")
	}
	if got := laia.text("#missing"); got != "Nothing is missing. This revision is complete." {
		laia.fail("#missing reads %q", got)
	}

	// 4. The preview in Catalan.
	laia.mustOpen(overview + "/preview?lang=ca")
	if got := laia.text("article.factsheet h1"); got != journeyEntry.name {
		laia.fail("preview heading %q, want %q", got, journeyEntry.name)
	}
	if laia.count(".preview-banner") != 1 {
		laia.fail("the preview has no preview banner")
	}
	if got := laia.text(".preview-banner"); !strings.Contains(got, "not public yet") {
		laia.fail("preview banner reads %q", got)
	}
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	wantTitle := cat.T(i18n.Catalan, "Human oversight and your rights")
	if got := laia.text("#your-rights h2"); got != wantTitle {
		laia.fail("section title %q, want %q", got, wantTitle)
	}
	if got := laia.text("#your-rights"); !strings.Contains(got, journeyEntry.humanIntervention) {
		laia.fail("section %q does not show the human intervention text %q", got, journeyEntry.humanIntervention)
	}

	// 5. A stale copy. Marc becomes a co-owner through the overview's form.
	laia.mustOpen(overview)
	laia.fill(`form[action="`+overview+`/owners"] #f-email`, "marc@example.org")
	if status := laia.click(`form[action="` + overview + `/owners"] button[type=submit]`); status != 200 {
		laia.fail("adding a co-owner: status %d", status)
	}
	if got := laia.text("#owners ul"); !strings.Contains(got, "marc@example.org") {
		laia.fail("owners %q do not list Marc", got)
	}

	laia.mustOpen(overview + "/edit/use") // tab A: Laia's copy, soon stale

	marcCtx, cancelMarc := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelMarc)
	marc := newBrowserTab(t, marcCtx, app)
	// A new browser context shares no cookies with Laia's: it starts signed out.
	if marc.mustOpen(overview); marc.path() != "/login" {
		marc.fail("a fresh browser context reached the overview without signing in")
	}
	marc.signIn("marc@example.org")
	marc.mustOpen(overview + "/edit/use")
	marc.fill("#f-goal", journeyEntry.goalMarc)
	if status := marc.click(`button[name=then][value=overview]`); status != 200 || marc.path() != overview {
		marc.fail("Marc's save: status %d", status)
	}

	laia.fill("#f-goal", journeyEntry.goalLaia)
	if status := laia.click(`button[name=then][value=overview]`); status != 409 {
		laia.fail("saving a stale copy: status %d, want 409", status)
	}
	if got := laia.text("h1"); got != "Someone else changed this in the meantime." {
		laia.fail("conflict page heading %q", got)
	}
	body := laia.text("main")
	for _, want := range []string{journeyEntry.goalMarc, journeyEntry.goalLaia} {
		if !strings.Contains(body, want) {
			laia.fail("the conflict page does not show %q:\n%s", want, body)
		}
	}
	if rows := laia.count("table tbody tr"); rows != 1 {
		laia.fail("the conflict page lists %d changed fields, want 1 (the goal):\n%s", rows, laia.text("table"))
	}
	if theirs, yours := laia.text("table tbody tr td:nth-of-type(1)"), laia.text("table tbody tr td:nth-of-type(2)"); theirs != journeyEntry.goalMarc || yours != journeyEntry.goalLaia {
		laia.fail("conflict row: theirs %q, yours %q", theirs, yours)
	}
	if status := laia.click(`form.actions button[type=submit]`); status != 200 {
		laia.fail("saving over theirs: status %d", status)
	}
	if laia.path() != overview {
		laia.fail("saving over theirs led to %s", laia.path())
	}
	laia.mustOpen(overview + "/edit/use")
	if got := laia.value("#f-goal"); got != journeyEntry.goalLaia {
		laia.fail("the edit page shows goal %q, want Laia's %q", got, journeyEntry.goalLaia)
	}
	var stored string
	if err := app.pool.QueryRow(context.Background(), `SELECT fact_sheet->'goal'->>'ca' FROM revisions
		WHERE algorithm_id = $1 ORDER BY number DESC LIMIT 1`, id).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != journeyEntry.goalLaia {
		t.Fatalf("stored goal %q, want %q", stored, journeyEntry.goalLaia)
	}

	// The tabs really ran without JavaScript from start to end.
	for _, b := range []*browserTab{laia, marc} {
		b.do(chromedp.Navigate(scriptProbe))
		if title := b.title(); title != "scripts off" {
			t.Fatalf("JavaScript was back on by the end of the journey: title %q", title)
		}
	}

	laia.mustOpen(overview)
	shot, err := chromedp.Run(laia.stepCtx(), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "overview.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("journey done in %v; screenshot %s (%d bytes)", time.Since(start).Round(time.Millisecond), file, len(shot))
}
