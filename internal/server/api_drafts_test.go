package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/auth"
)

// apiRequest sends a request to the JSON API: body is sent as is when a string, as JSON
// otherwise (nil: no body); token, when set, as a Bearer token; headers as name, value pairs.
func (c *client) apiRequest(method, path, token string, body any, headers ...string) *response {
	c.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rdr = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.app.http.URL+path, rdr)
	if err != nil {
		c.t.Fatal(err)
	}
	if rdr != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// apiAuthor creates an author with an API token.
func (a *testApp) apiAuthor(email string) (*auth.User, string) {
	a.t.Helper()
	u := a.user(email, auth.RoleAuthor)
	token, _ := a.newToken(u, "api test")
	return u, token
}

func decodeDraft(t *testing.T, res *response) algorithms.DraftRecord {
	t.Helper()
	var d algorithms.DraftRecord
	if err := json.Unmarshal([]byte(res.body), &d); err != nil {
		t.Fatalf("%s %s: body is not a draft record: %v\n%.600s", res.Request.Method, res.Request.URL.Path, err, res.body)
	}
	return d
}

type apiErrorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// expectAPIError checks the status, the JSON error shape and its code, and returns the body.
func expectAPIError(t *testing.T, res *response, status int, code string) apiErrorBody {
	t.Helper()
	expectStatus(t, res, status)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, want JSON", res.Request.Method, res.Request.URL.Path, ct)
	}
	var e apiErrorBody
	dec := json.NewDecoder(strings.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("%s %s: not the error shape: %v\n%s", res.Request.Method, res.Request.URL.Path, err, res.body)
	}
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("%s %s: error %+v, want code %q and a message", res.Request.Method, res.Request.URL.Path, e.Error, code)
	}
	return e
}

// completeAnswers answers every question of the shipped risk assessment: no to the whole
// checklist, the first choice of every impact question.
func completeAnswers(t *testing.T) risk.Answers {
	t.Helper()
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := risk.Answers{Checklist: map[string]bool{}, Impact: map[string]string{}}
	for _, q := range defs.Checklist.Questions() {
		a.Checklist[q.ID] = false
	}
	for _, q := range defs.Impact.Questions {
		a.Impact[q.ID] = q.Choices[0].ID
	}
	return a
}

func draftBody(sheet map[string]any, answers any) map[string]any {
	b := map[string]any{"fact_sheet": sheet}
	if answers != nil {
		b["risk_assessment"] = answers
	}
	return b
}

func hasMissing(d algorithms.DraftRecord, field string) bool {
	for _, m := range d.Missing {
		if m.Field == field {
			return true
		}
	}
	return false
}

func TestAPIDraftCycle(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, token := app.apiAuthor("laia@example.org")
	c := app.client()

	// Create: 201, the address of the draft, its ETag, and the record.
	sheet := map[string]any{"lang": "ca", "name": map[string]string{"ca": "Detecció de pobresa energètica"},
		"contact_email": "dades@bcn.cat"}
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(sheet, nil))
	expectStatus(t, res, http.StatusCreated)
	d := decodeDraft(t, res)
	draftURL := "/api/v1/algorithms/" + d.ID + "/draft"
	if got := res.Header.Get("Location"); got != draftURL {
		t.Errorf("Location %q, want %q", got, draftURL)
	}
	if etag := res.Header.Get("ETag"); etag == "" || etag != d.ETag {
		t.Errorf("ETag header %q, record etag %q", etag, d.ETag)
	}
	if d.Slug != "deteccio-de-pobresa-energetica" || d.Revision != 1 || d.State != algorithms.StateDraft || !d.Editable {
		t.Errorf("new draft: slug %q, revision %d, state %q, editable %v", d.Slug, d.Revision, d.State, d.Editable)
	}
	if d.Risk.Category != nil || d.Risk.ImpactLevel != nil {
		t.Errorf("risk computed before any answer: %+v", d.Risk)
	}
	if !hasMissing(d, "description_short") || !hasMissing(d, "risk_assessment") {
		t.Errorf("missing list lacks description_short or risk_assessment: %+v", d.Missing)
	}
	for _, m := range d.Missing {
		if m.Message == "" || m.Section == "" || strings.Contains(m.Message, "%!") {
			t.Errorf("missing entry without a section or a proper message: %+v", m)
		}
	}
	first := d.ETag

	// Read: 200 with the same ETag; 304 when the client's copy is current (also weakly).
	res = c.apiRequest(http.MethodGet, draftURL, token, nil)
	expectStatus(t, res, http.StatusOK)
	if got := decodeDraft(t, res); got.ETag != first || res.Header.Get("ETag") != first || got.FactSheet.ContactEmail != "dades@bcn.cat" {
		t.Errorf("read back: etag %q (header %q), contact %q", got.ETag, res.Header.Get("ETag"), got.FactSheet.ContactEmail)
	}
	for _, inm := range []string{first, "W/" + first, `"other", ` + first, "*"} {
		res = c.apiRequest(http.MethodGet, draftURL, token, nil, "If-None-Match", inm)
		expectStatus(t, res, http.StatusNotModified)
		if res.body != "" || res.Header.Get("ETag") != first {
			t.Errorf("If-None-Match %s: 304 with body %q and ETag %q", inm, res.body, res.Header.Get("ETag"))
		}
	}
	expectStatus(t, c.apiRequest(http.MethodGet, draftURL, token, nil, "If-None-Match", `"other"`), http.StatusOK)

	// Update: If-Match is required, and must be current.
	sheet["description_short"] = map[string]string{"ca": "Troba llars que poden rebre ajuts."}
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil)),
		http.StatusPreconditionRequired, "precondition_required")
	res = c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", first)
	expectStatus(t, res, http.StatusOK)
	d = decodeDraft(t, res)
	second := d.ETag
	if second == first || res.Header.Get("ETag") != second || d.Version != 2 || d.FactSheet.DescriptionShort["ca"] == "" {
		t.Errorf("after save: etag %q (was %q, header %q), version %d, description %v",
			second, first, res.Header.Get("ETag"), d.Version, d.FactSheet.DescriptionShort)
	}
	// Risk assessment absent: unchanged. Sent: replaced, and the tier and level computed.
	answers := completeAnswers(t)
	res = c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, answers), "If-Match", second)
	expectStatus(t, res, http.StatusOK)
	d = decodeDraft(t, res)
	if d.Risk.Category == nil || *d.Risk.Category != risk.Minimal || d.Risk.ImpactLevel == nil || *d.Risk.ImpactLevel == "" ||
		d.Risk.Route.Approvals < 1 || hasMissing(d, "risk_assessment") {
		t.Errorf("complete assessment: risk %+v, missing %+v", d.Risk, d.Missing)
	}
	if d.RiskAssessment.ChecklistVersion == "" || d.RiskAssessment.ImpactVersion == "" {
		t.Errorf("answers not stamped with the definitions' versions: %+v", d.RiskAssessment)
	}
	third := d.ETag
	res = c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", third)
	expectStatus(t, res, http.StatusOK)
	d = decodeDraft(t, res)
	if diff := cmp.Diff(answers.Checklist, d.RiskAssessment.Checklist); diff != "" || d.Risk.Category == nil {
		t.Errorf("a save without risk_assessment changed the answers (-want +got):\n%s", diff)
	}
	current := d.ETag

	// A stale ETag: 412, told the current one; nothing saved.
	sheet["contact_email"] = "other@bcn.cat"
	res = c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", first)
	expectAPIError(t, res, http.StatusPreconditionFailed, "precondition_failed")
	if got := res.Header.Get("ETag"); got != current {
		t.Errorf("412 names ETag %q, want the current %q", got, current)
	}
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", "W/"+current),
		http.StatusPreconditionFailed, "precondition_failed")

	// Invalid input: 422 naming the fields; nothing saved, even the valid part.
	bad := map[string]any{"lang": "ca", "name": map[string]string{"ca": "Detecció"}, "contact_email": "not an address",
		"website": "javascript:alert(1)"}
	tooLong := completeAnswers(t)
	tooLong.Exception63 = true
	tooLong.ExceptionJustification = strings.Repeat("à", 5001)
	e := expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(bad, tooLong), "If-Match", current),
		http.StatusUnprocessableEntity, "invalid")
	for _, f := range []string{"contact_email", "website", "exception_justification"} {
		if e.Error.Fields[f] == "" {
			t.Errorf("422 does not name %s: %v", f, e.Error.Fields)
		}
	}
	if got := e.Error.Fields["exception_justification"]; got != "Use at most 5000 characters." {
		t.Errorf("exception_justification message %q", got)
	}
	// A valid sheet with invalid answers saves neither: one transaction per request.
	sheet["contact_email"] = "nou@bcn.cat"
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, tooLong), "If-Match", current),
		http.StatusUnprocessableEntity, "invalid")
	res = c.apiRequest(http.MethodGet, draftURL, token, nil)
	if d = decodeDraft(t, res); d.ETag != current || d.FactSheet.ContactEmail != "dades@bcn.cat" {
		t.Errorf("a refused save changed the draft: etag %q (want %q), contact %q", d.ETag, current, d.FactSheet.ContactEmail)
	}
	// "*" matches whatever version is current.
	res = c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", "*")
	expectStatus(t, res, http.StatusOK)
	current = decodeDraft(t, res).ETag

	// Once submitted, the draft is no longer editable: 409, and the record says so. A
	// change of state leaves the version as it is, but not the ETag: a client asking
	// whether its copy is current hears that it is not.
	ownerExec(t, app, `UPDATE revisions SET state = 'submitted' WHERE algorithm_id = '`+d.ID+`'`)
	res = c.apiRequest(http.MethodGet, draftURL, token, nil, "If-None-Match", current)
	expectStatus(t, res, http.StatusOK)
	d = decodeDraft(t, res)
	if d.State != algorithms.StateSubmitted || d.Editable || d.ETag == current {
		t.Errorf("submitted revision: state %q, editable %v, etag %q (was %q)", d.State, d.Editable, d.ETag, current)
	}
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", d.ETag),
		http.StatusConflict, "conflict")
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", current),
		http.StatusConflict, "conflict")

	// Sent back with changes requested, it is editable again, but only by a client that
	// has read it since: a copy from before the submission is stale.
	ownerExec(t, app, `UPDATE revisions SET state = 'changes_requested' WHERE algorithm_id = '`+d.ID+`'`)
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", current),
		http.StatusPreconditionFailed, "precondition_failed")
	res = c.apiRequest(http.MethodGet, draftURL, token, nil)
	expectStatus(t, res, http.StatusOK)
	if d = decodeDraft(t, res); d.State != algorithms.StateChangesRequested || !d.Editable {
		t.Errorf("changes requested: state %q, editable %v", d.State, d.Editable)
	}
	expectStatus(t, c.apiRequest(http.MethodPut, draftURL, token, draftBody(sheet, nil), "If-Match", d.ETag), http.StatusOK)

	// A draft that does not exist is a 404, whatever its ID looks like.
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid"} {
		expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/algorithms/"+id+"/draft", token, nil), http.StatusNotFound, "not_found")
		expectAPIError(t, c.apiRequest(http.MethodPut, "/api/v1/algorithms/"+id+"/draft", token, draftBody(sheet, nil), "If-Match", "*"),
			http.StatusNotFound, "not_found")
	}
}

func TestAPIDraftCreateWithAssessment(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, token := app.apiAuthor("laia@example.org")
	answers := completeAnswers(t)
	sheet := map[string]any{"lang": "es", "name": map[string]string{"es": "Cita previa"}}
	res := app.client().apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(sheet, answers))
	expectStatus(t, res, http.StatusCreated)
	d := decodeDraft(t, res)
	if d.Risk.Category == nil || *d.Risk.Category != risk.Minimal || d.Risk.ImpactLevel == nil || hasMissing(d, "risk_assessment") {
		t.Errorf("created with a complete assessment: risk %+v, missing %+v", d.Risk, d.Missing)
	}
	if diff := cmp.Diff(answers.Impact, d.RiskAssessment.Impact); diff != "" {
		t.Errorf("impact answers (-want +got):\n%s", diff)
	}
}

func TestAPIDraftOwnersOnly(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, laia := app.apiAuthor("laia@example.org")
	_, pau := app.apiAuthor("pau@example.org")
	c := app.client()

	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", laia,
		draftBody(map[string]any{"name": map[string]string{"ca": "Semàfors intel·ligents"}}, nil))
	expectStatus(t, res, http.StatusCreated)
	d := decodeDraft(t, res)
	draftURL := "/api/v1/algorithms/" + d.ID + "/draft"
	missing := expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/algorithms/00000000-0000-0000-0000-000000000000/draft", pau, nil),
		http.StatusNotFound, "not_found")

	// Another author cannot tell the entry from a missing one, reading or writing, even
	// holding its current ETag.
	got := expectAPIError(t, c.apiRequest(http.MethodGet, draftURL, pau, nil), http.StatusNotFound, "not_found")
	if diff := cmp.Diff(missing, got); diff != "" {
		t.Errorf("someone else's draft answers unlike a missing one (-missing +other's):\n%s", diff)
	}
	hijack := draftBody(map[string]any{"name": map[string]string{"ca": "Hijacked"}}, nil)
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, pau, hijack, "If-Match", d.ETag), http.StatusNotFound, "not_found")
	expectAPIError(t, c.apiRequest(http.MethodPut, draftURL, pau, hijack), http.StatusNotFound, "not_found")
	expectAPIError(t, c.apiRequest(http.MethodGet, draftURL, pau, nil, "If-None-Match", d.ETag), http.StatusNotFound, "not_found")
	res = c.apiRequest(http.MethodGet, draftURL, laia, nil)
	expectStatus(t, res, http.StatusOK)
	if d2 := decodeDraft(t, res); d2.ETag != d.ETag || d2.FactSheet.Name["ca"] != "Semàfors intel·ligents" {
		t.Errorf("the other author's attempts changed the draft: %q %v", d2.ETag, d2.FactSheet.Name)
	}

	// A co-owner may.
	if err := app.srv.algorithms.AddOwner(context.Background(), d.ID, "pau@example.org", algorithms.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, c.apiRequest(http.MethodGet, draftURL, pau, nil), http.StatusOK)
	expectStatus(t, c.apiRequest(http.MethodPut, draftURL, pau, draftBody(map[string]any{"name": map[string]string{"ca": "Semàfors"}}, nil),
		"If-Match", d.ETag), http.StatusOK)
}

func TestAPIDraftAuthentication(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	reviewer := app.user("rita@example.org", auth.RoleReviewer)
	reviewerToken, _ := app.newToken(reviewer, "api test")
	app.user("laia@example.org", auth.RoleAuthor)
	body := draftBody(map[string]any{"name": map[string]string{"ca": "Prova"}}, nil)
	anyDraft := "/api/v1/algorithms/00000000-0000-0000-0000-000000000000/draft"

	// No token, no session: 401 in JSON, for every route.
	anon := app.client()
	expectAPIError(t, anon.apiRequest(http.MethodPost, "/api/v1/algorithms", "", body), http.StatusUnauthorized, "unauthenticated")
	expectAPIError(t, anon.apiRequest(http.MethodGet, anyDraft, "", nil), http.StatusUnauthorized, "unauthenticated")
	expectAPIError(t, anon.apiRequest(http.MethodPut, anyDraft, "", body, "If-Match", "*"), http.StatusUnauthorized, "unauthenticated")
	res := anon.apiRequest(http.MethodPost, "/api/v1/algorithms", "reg_"+strings.Repeat("x", 43), body)
	expectAPIError(t, res, http.StatusUnauthorized, "unauthenticated")
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 for a bad token without WWW-Authenticate")
	}

	// A reviewer is not an author: 403.
	expectAPIError(t, anon.apiRequest(http.MethodPost, "/api/v1/algorithms", reviewerToken, body), http.StatusForbidden, "forbidden")
	expectAPIError(t, anon.apiRequest(http.MethodGet, anyDraft, reviewerToken, nil), http.StatusForbidden, "forbidden")

	// An author's browser session works too.
	browser := app.client()
	browser.login("laia@example.org", testPassword)
	res = browser.apiRequest(http.MethodPost, "/api/v1/algorithms", "", body)
	expectStatus(t, res, http.StatusCreated)
	expectStatus(t, browser.apiRequest(http.MethodGet, res.Header.Get("Location"), "", nil), http.StatusOK)
}

func TestAPIDraftUnicodeRoundTrip(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, token := app.apiAuthor("laia@example.org")
	c := app.client()
	name := algorithms.Text{
		"ca": "Detecció de pobresa energètica · l'Eixample",
		"es": "Detección de pobreza energética — año “2025” ñ",
		"en": "Energy poverty 🌍 <b>&</b> 日本語 \u00a0Ω",
	}
	goal := algorithms.Text{"ca": "Línia 1\nLínia 2: ÀÉÍÒÚ àéíòú ç l·l\n\n| a | b |\n|---|---|\n| 1 | 2 |"}
	sheet := map[string]any{"lang": "ca", "name": name, "goal": goal, "keywords": []string{"energia", "àèò", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"}}
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(sheet, nil))
	expectStatus(t, res, http.StatusCreated)
	d := decodeDraft(t, res)
	check := func(when string, d algorithms.DraftRecord) {
		t.Helper()
		if diff := cmp.Diff(name, d.FactSheet.Name); diff != "" {
			t.Errorf("%s: name (-sent +got):\n%s", when, diff)
		}
		if diff := cmp.Diff(goal, d.FactSheet.Goal); diff != "" {
			t.Errorf("%s: goal (-sent +got):\n%s", when, diff)
		}
		if diff := cmp.Diff([]string{"energia", "àèò", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"}, d.FactSheet.Keywords); diff != "" {
			t.Errorf("%s: keywords (-sent +got):\n%s", when, diff)
		}
	}
	check("created", d)
	draftURL := res.Header.Get("Location")
	res = c.apiRequest(http.MethodGet, draftURL, token, nil)
	expectStatus(t, res, http.StatusOK)
	check("read", decodeDraft(t, res))

	// The record read back is accepted as it is.
	got := decodeDraft(t, res)
	res = c.apiRequest(http.MethodPut, draftURL, token,
		map[string]any{"fact_sheet": got.FactSheet, "risk_assessment": got.RiskAssessment}, "If-Match", got.ETag)
	expectStatus(t, res, http.StatusOK)
	check("saved again", decodeDraft(t, res))
	res = c.apiRequest(http.MethodGet, draftURL, token, nil)
	check("read again", decodeDraft(t, res))
}

func TestAPIDraftBadInput(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u, token := app.apiAuthor("laia@example.org")
	c := app.client()
	named := func(extra map[string]any) map[string]any {
		s := map[string]any{"lang": "ca", "name": map[string]string{"ca": "Prova"}}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	answers := func(change func(*risk.Answers)) risk.Answers {
		a := completeAnswers(t)
		change(&a)
		return a
	}

	// 150 characters is the limit, counted in characters, not bytes.
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", token,
		draftBody(named(map[string]any{"description_short": map[string]string{"ca": strings.Repeat("é", 150)}}), nil))
	expectStatus(t, res, http.StatusCreated)

	for _, tc := range []struct {
		name   string
		body   any
		field  string
		wanted string // the message, when it matters
	}{
		{"description_short of 151 characters", draftBody(named(map[string]any{"description_short": map[string]string{"ca": strings.Repeat("x", 151)}}), nil),
			"description_short", "Use at most 150 characters."},
		{"description_short translation of 151", draftBody(named(map[string]any{"description_short": map[string]string{"ca": "Curt", "en": strings.Repeat("ñ", 151)}}), nil),
			"description_short", "Use at most 150 characters."},
		{"javascript: website", draftBody(named(map[string]any{"website": "javascript:alert(document.cookie)"}), nil),
			"website", "Enter a web address that starts with https:// or http://."},
		{"data: website", draftBody(named(map[string]any{"website": "data:text/html,<script>alert(1)</script>"}), nil), "website", ""},
		{"javascript: link", draftBody(named(map[string]any{"lawful_basis_links": []map[string]string{{"title": "Llei", "url": "JavaScript:alert(1)"}}}), nil),
			"lawful_basis_links.0.url", ""},
		{"bad e-mail", draftBody(named(map[string]any{"contact_email": "dades at bcn"}), nil), "contact_email", ""},
		{"unknown domain", draftBody(named(map[string]any{"domain": "astrology"}), nil), "domain", ""},
		{"no name in the original language", draftBody(map[string]any{"lang": "es", "name": map[string]string{"ca": "Prova"}}, nil), "name", ""},
		{"unknown language", draftBody(named(map[string]any{"lang": "fr"}), nil), "lang", ""},
		{"no fact sheet", map[string]any{"risk_assessment": completeAnswers(t)}, "fact_sheet", ""},
		{"unknown checklist question", draftBody(named(nil), answers(func(a *risk.Answers) { a.Checklist["made_up"] = true })), "checklist.made_up", ""},
		{"unknown impact question", draftBody(named(nil), answers(func(a *risk.Answers) { a.Impact["made_up"] = "x" })), "impact.made_up", ""},
		{"unknown impact choice", draftBody(named(nil), answers(func(a *risk.Answers) {
			for id := range a.Impact {
				a.Impact[id] = "made_up"
				break
			}
		})), "impact.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, tc.body), http.StatusUnprocessableEntity, "invalid")
			found := ""
			for f, msg := range e.Error.Fields {
				if f == tc.field || (strings.HasSuffix(tc.field, ".") && strings.HasPrefix(f, tc.field)) {
					found = msg
				}
			}
			if found == "" || strings.Contains(found, "%!") {
				t.Fatalf("fields %v do not name %s with a proper message", e.Error.Fields, tc.field)
			}
			if tc.wanted != "" && found != tc.wanted {
				t.Errorf("message %q, want %q", found, tc.wanted)
			}
		})
	}

	for _, tc := range []struct{ name, body string }{
		{"malformed JSON", `{"fact_sheet": {"name": `},
		{"not an object", `[1, 2]`},
		{"unknown top-level field", `{"fact_sheet": {"name": {"ca": "Prova"}}, "owner": "someone"}`},
		{"unknown fact-sheet field", `{"fact_sheet": {"name": {"ca": "Prova"}, "nmae": {"ca": "x"}}}`},
		{"wrong type", `{"fact_sheet": {"name": "Prova"}}`},
		{"trailing data", `{"fact_sheet": {"name": {"ca": "Prova"}}} {}`},
		{"empty body", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, tc.body), http.StatusBadRequest, "bad_request")
		})
	}

	// Messages come in the language the client asks for (English when it asks for none).
	tooLong := draftBody(named(map[string]any{"description_short": map[string]string{"ca": strings.Repeat("x", 151)}}), nil)
	res = c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, tooLong, "Accept-Language", "es-ES,es;q=0.9")
	e := expectAPIError(t, res, http.StatusUnprocessableEntity, "invalid")
	if msg := e.Error.Fields["description_short"]; msg == "Use at most 150 characters." || !strings.Contains(msg, "150") {
		t.Errorf("Spanish client told %q", msg)
	}
	res = c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(named(nil), nil), "Accept-Language", "es")
	expectStatus(t, res, http.StatusCreated)
	for _, m := range decodeDraft(t, res).Missing {
		if strings.HasPrefix(m.Message, "Fill in") {
			t.Errorf("Spanish client told %q for %s", m.Message, m.Field)
		}
	}

	big := `{"fact_sheet": {"name": {"ca": "` + strings.Repeat("x", 3<<20) + `"}}}`
	expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, big), http.StatusRequestEntityTooLarge, "too_large")

	// Of all these requests, only the two accepted made an entry.
	entries, err := app.srv.algorithms.OwnedBy(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("refused requests left entries behind: %d entries", len(entries))
	}
}

func TestAPIDraftConcurrentSaves(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, token := app.apiAuthor("laia@example.org")
	res := app.client().apiRequest(http.MethodPost, "/api/v1/algorithms", token,
		draftBody(map[string]any{"name": map[string]string{"ca": "Prova"}}, nil))
	expectStatus(t, res, http.StatusCreated)
	draftURL, etag := app.http.URL+res.Header.Get("Location"), res.Header.Get("ETag")

	// Several clients save over the same version at once: one wins, the others are told
	// their copy is stale. No update is lost silently.
	const n = 6
	statuses := make(chan int, n)
	for i := range n {
		go func() {
			body := `{"fact_sheet": {"name": {"ca": "Prova ` + strings.Repeat("i", i+1) + `"}}}`
			req, _ := http.NewRequest(http.MethodPut, draftURL, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("If-Match", etag)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	count := map[int]int{}
	for range n {
		count[<-statuses]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusPreconditionFailed] != n-1 {
		t.Errorf("concurrent saves of one version: statuses %v, want one 200 and %d 412", count, n-1)
	}
}
