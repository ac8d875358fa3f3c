package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/publish"
	"github.com/civictech/registry/internal/review"
)

// demoDraft returns the fact sheet (as a JSON object, to change at will) and the risk
// answers of a demo entry, for the API.
func demoDraft(t *testing.T, slug string) (map[string]any, json.RawMessage) {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Slug == slug {
			var sheet map[string]any
			if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
				t.Fatal(err)
			}
			return sheet, e.Risk
		}
	}
	t.Fatalf("no demo entry %s", slug)
	return nil, nil
}

// apiSubmitDemo registers a demo entry through the API as the token's author and submits it.
func apiSubmitDemo(t *testing.T, c *client, token, slug string) algorithms.DraftRecord {
	t.Helper()
	sheet, answers := demoDraft(t, slug)
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", token, draftBody(sheet, answers))
	expectStatus(t, res, http.StatusCreated)
	d := decodeDraft(t, res)
	res = c.apiRequest(http.MethodPost, "/api/v1/algorithms/"+d.ID+"/submit", token, nil)
	expectStatus(t, res, http.StatusOK)
	return d
}

// queueItem returns the queue's entry for revision (nil when it is not waiting).
func queueItem(t *testing.T, c *client, token, query, revision string) *review.QueueEntry {
	t.Helper()
	res := c.apiRequest(http.MethodGet, "/api/v1/review/queue"+query, token, nil)
	expectStatus(t, res, http.StatusOK)
	for _, it := range decodeJSON[review.QueueList](t, res).Items {
		if it.RevisionID == revision {
			return &it
		}
	}
	return nil
}

func decide(c *client, token, revision, decision, comment string, extra ...string) *response {
	body := map[string]any{"decision": decision, "comment": comment}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	return c.apiRequest(http.MethodPost, "/api/v1/review/"+revision+"/decision", token, body)
}

func TestReviewAPISubmit(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, author := app.apiAuthor("laia@example.org")
	_, other := app.apiAuthor("pau@example.org")
	reviewer, _ := app.newToken(app.user("anna@example.org", auth.RoleReviewer), "api")
	c := app.client()

	// An incomplete draft: submitting lists what is missing, each with its message.
	sheet, answers := demoDraft(t, "deteccio-pobresa-energetica")
	description := sheet["description"]
	sheet["description"] = map[string]string{"ca": "Massa curta."}
	res := c.apiRequest(http.MethodPost, "/api/v1/algorithms", author, draftBody(sheet, nil))
	expectStatus(t, res, http.StatusCreated)
	d := decodeDraft(t, res)
	submit := "/api/v1/algorithms/" + d.ID + "/submit"
	e := expectAPIError(t, c.apiRequest(http.MethodPost, submit, author, nil), http.StatusUnprocessableEntity, "invalid")
	if got := e.Error.Fields["description"]; got != "Write at least 500 characters in the original language." {
		t.Errorf("description: %q", got)
	}
	if e.Error.Fields["risk_assessment"] == "" || len(e.Error.Fields) != 2 {
		t.Errorf("fields: %v", e.Error.Fields)
	}
	e = expectAPIError(t, c.apiRequest(http.MethodPost, submit, author, nil, "Accept-Language", "es"), http.StatusUnprocessableEntity, "invalid")
	if got := e.Error.Fields["description"]; !strings.Contains(got, "500") || strings.HasPrefix(got, "Write") || strings.Contains(got, "%!") {
		t.Errorf("Spanish client told %q", got)
	}

	// Only its owners submit it: another author cannot tell it exists; a reviewer is no author.
	sheet["description"] = description
	res = c.apiRequest(http.MethodPut, "/api/v1/algorithms/"+d.ID+"/draft", author, draftBody(sheet, answers), "If-Match", d.ETag)
	expectStatus(t, res, http.StatusOK)
	expectAPIError(t, c.apiRequest(http.MethodPost, submit, other, nil), http.StatusNotFound, "not_found")
	expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/algorithms/00000000-0000-0000-0000-000000000000/submit", author, nil), http.StatusNotFound, "not_found")
	expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/algorithms/not-a-uuid/submit", author, nil), http.StatusNotFound, "not_found")
	expectAPIError(t, c.apiRequest(http.MethodPost, submit, reviewer, nil), http.StatusForbidden, "forbidden")
	expectAPIError(t, app.client().apiRequest(http.MethodPost, submit, "", nil), http.StatusUnauthorized, "unauthenticated")

	res = c.apiRequest(http.MethodPost, submit, author, nil)
	expectStatus(t, res, http.StatusOK)
	sub := decodeJSON[review.SubmitResult](t, res)
	if sub.ID != d.ID || sub.State != algorithms.StateSubmitted || sub.Revision != 1 || sub.ApprovalsNeeded != 2 || !sub.Route.ExpertRequired || sub.RevisionID == "" {
		t.Fatalf("submitted: %+v", sub)
	}
	expectAPIError(t, c.apiRequest(http.MethodPost, submit, author, nil), http.StatusConflict, "conflict")
	res = c.apiRequest(http.MethodGet, "/api/v1/algorithms/"+d.ID+"/draft", author, nil)
	if got := decodeDraft(t, res); got.State != algorithms.StateSubmitted || got.Editable {
		t.Errorf("the draft after submission: state %q, editable %v", got.State, got.Editable)
	}
	assertPrivate(t, app.client(), d.Slug, sheet)
}

func TestReviewAPIDecisionCycle(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, author := app.apiAuthor("laia@example.org")
	reviewer, _ := app.newToken(app.user("anna@example.org", auth.RoleReviewer), "api")
	expert, _ := app.newToken(app.user("bernat@example.org", auth.RoleExpert), "api")
	c, anon := app.client(), app.client()
	d := apiSubmitDemo(t, c, author, "deteccio-pobresa-energetica")
	rev := mustRevision(t, app, d.ID)
	checkQueueEntry(t, c, reviewer, d, rev)
	checkBadDecisions(t, c, reviewer, rev)

	// Changes requested: back to the authors, out of the queue; nobody can decide now.
	res := decide(c, reviewer, rev, "request_changes", "Explain how people can object by phone.")
	expectStatus(t, res, http.StatusOK)
	if out := decodeJSON[review.DecisionResult](t, res); out.State != algorithms.StateChangesRequested || out.ApprovalsNeeded != 2 {
		t.Errorf("request_changes: %+v", out)
	}
	expectAPIError(t, decide(c, expert, rev, "approve", "Fine."), http.StatusConflict, "conflict")
	if queueItem(t, c, reviewer, "", rev) != nil {
		t.Error("a revision sent back is still in the queue")
	}

	// The authors change it and submit it again, all through the API.
	res = c.apiRequest(http.MethodGet, "/api/v1/algorithms/"+d.ID+"/draft", author, nil)
	expectStatus(t, res, http.StatusOK)
	d = decodeDraft(t, res)
	sheet, _ := demoDraft(t, "deteccio-pobresa-energetica")
	sheet["objection_procedure"] = map[string]string{"ca": "Per escrit a qualsevol oficina, en línia o per telèfon al 010."}
	expectStatus(t, c.apiRequest(http.MethodPut, "/api/v1/algorithms/"+d.ID+"/draft", author, draftBody(sheet, nil), "If-Match", d.ETag), http.StatusOK)
	res = c.apiRequest(http.MethodPost, "/api/v1/algorithms/"+d.ID+"/submit", author, nil)
	expectStatus(t, res, http.StatusOK)
	if got := decodeJSON[review.SubmitResult](t, res); got.State != algorithms.StateSubmitted || got.RevisionID != rev {
		t.Fatalf("resubmitted: %+v", got)
	}

	// A first approval is not enough for high risk; a reviewer decides once per round.
	res = decide(c, reviewer, rev, "approve", "The objection procedure is now clear.", "conditions", "Publish the yearly bias audit.")
	expectStatus(t, res, http.StatusOK)
	if out := decodeJSON[review.DecisionResult](t, res); out.State != algorithms.StateInReview || out.Approvals != 1 || out.ApprovalsNeeded != 2 {
		t.Errorf("first approval: %+v", out)
	}
	expectAPIError(t, decide(c, reviewer, rev, "approve", "Again."), http.StatusConflict, "conflict")
	if it := queueItem(t, c, expert, "", rev); it == nil || it.Approvals != 1 || it.State != algorithms.StateInReview || it.ExpertApproved {
		t.Errorf("after one approval the queue shows %+v", it)
	}
	assertPrivate(t, anon, d.Slug, sheet)

	// The external expert's approval publishes it: the public API shows it at once.
	res = decide(c, expert, rev, "approve", "Proportionate, with the audit.")
	expectStatus(t, res, http.StatusOK)
	if out := decodeJSON[review.DecisionResult](t, res); out.State != algorithms.StatePublished || out.Approvals != 2 {
		t.Fatalf("expert approval: %+v", out)
	}
	checkPublished(t, anon, d, "Publish the yearly bias audit.")
	expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/algorithms/"+d.ID+"/submit", author, nil), http.StatusConflict, "conflict")
	expectAPIError(t, decide(c, reviewer, rev, "reject", "Too late."), http.StatusConflict, "conflict")
}

// checkQueueEntry checks the queue's entry of a high-risk revision just submitted.
func checkQueueEntry(t *testing.T, c *client, token string, d algorithms.DraftRecord, rev string) {
	t.Helper()
	it := queueItem(t, c, token, "", rev)
	if it == nil {
		t.Fatal("the submitted revision is not in the queue")
	}
	if it.AlgorithmID != d.ID || it.Slug != d.Slug || it.Name["ca"] == "" || it.Revision != 1 || it.State != algorithms.StateSubmitted ||
		it.SubmittedAt.IsZero() || it.WaitedSeconds < 0 || it.RiskCategory != "high risk" || it.ImpactLevel == "" ||
		it.Department["ca"] == "" || it.Approvals != 0 || it.ApprovalsNeeded != 2 || !it.ExpertRequired || it.ExpertApproved ||
		it.ClaimedBy != nil || it.ConflictOfInterest || it.DecisionURL != "/api/v1/review/"+rev+"/decision" {
		t.Errorf("queue entry: %+v", it)
	}
}

// checkBadDecisions: bad decisions are refused naming the field; unknown revisions are 404;
// a malformed body is 400. None of them changes the revision.
func checkBadDecisions(t *testing.T, c *client, token, rev string) {
	t.Helper()
	e := expectAPIError(t, decide(c, token, rev, "approve", "  "), http.StatusUnprocessableEntity, "invalid")
	if e.Error.Fields["comment"] == "" || e.Error.Fields["rationale"] != "" {
		t.Errorf("missing comment: fields %v", e.Error.Fields)
	}
	e = expectAPIError(t, decide(c, token, rev, "maybe", "Hmm."), http.StatusUnprocessableEntity, "invalid")
	if e.Error.Fields["decision"] == "" {
		t.Errorf("bad decision: fields %v", e.Error.Fields)
	}
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "not-a-uuid"} {
		expectAPIError(t, decide(c, token, id, "approve", "Fine."), http.StatusNotFound, "not_found")
	}
	for _, body := range []string{`{"decision": "approve", "comment": `, `{"decision": "approve", "comment": "ok", "approved": true}`} {
		expectAPIError(t, c.apiRequest(http.MethodPost, "/api/v1/review/"+rev+"/decision", token, body), http.StatusBadRequest, "bad_request")
	}
	if it := queueItem(t, c, token, "", rev); it == nil || it.State != algorithms.StateSubmitted || it.Approvals != 0 {
		t.Errorf("refused decisions changed the revision: %+v", it)
	}
}

// checkPublished checks that a published entry is readable anonymously, with its outcome.
func checkPublished(t *testing.T, anon *client, d algorithms.DraftRecord, condition string) {
	t.Helper()
	res := anon.apiRequest(http.MethodGet, "/api/v1/algorithms/"+d.Slug, "", nil)
	expectStatus(t, res, http.StatusOK)
	rec := decodeJSON[algorithms.Record](t, res)
	if rec.UUID != d.ID || rec.Revision != 1 || rec.Governance.Approvals != 2 || !slices.Contains(rec.Governance.Conditions, condition) ||
		!strings.Contains(rec.ObjectionProcedure["ca"], "010") {
		t.Errorf("published record: uuid %q, revision %d, governance %+v", rec.UUID, rec.Revision, rec.Governance)
	}
	res = anon.apiRequest(http.MethodGet, "/api/v1/algorithms", "", nil)
	if !slices.Contains(slugsOf(decodeJSON[publish.RecordPage](t, res).Items), d.Slug) {
		t.Error("the published entry is not listed")
	}
	expectStatus(t, anon.get("/ca/algorithms/"+d.Slug), http.StatusOK)
}

// assertPrivate checks that nothing of an unpublished entry is readable anonymously: not
// by the public API, not on the public page, not in the listing.
func assertPrivate(t *testing.T, anon *client, slug string, sheet map[string]any) {
	t.Helper()
	for _, rest := range []string{"", "/versions", "/versions/1"} {
		expectAPIError(t, anon.apiRequest(http.MethodGet, "/api/v1/algorithms/"+slug+rest, "", nil), http.StatusNotFound, "not_found")
	}
	expectStatus(t, anon.get("/ca/algorithms/"+slug), http.StatusNotFound)
	expectStatus(t, anon.get("/ca/algorithms/"+slug+"/versions/1"), http.StatusNotFound)
	name := sheet["name"].(map[string]any)["ca"].(string)
	for _, q := range []string{"", "?q=" + url.QueryEscape(name)} {
		res := anon.apiRequest(http.MethodGet, "/api/v1/algorithms"+q, "", nil)
		expectStatus(t, res, http.StatusOK)
		if strings.Contains(res.body, slug) || strings.Contains(res.body, name) {
			t.Errorf("the listing%s shows an entry in review", q)
		}
	}
}

func TestReviewAPIAccessAndFilters(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, author := app.apiAuthor("laia@example.org")
	reviewer, _ := app.newToken(app.user("anna@example.org", auth.RoleReviewer), "api")
	expert, _ := app.newToken(app.user("bernat@example.org", auth.RoleExpert), "api")
	c := app.client()
	high := apiSubmitDemo(t, c, author, "deteccio-pobresa-energetica")
	low := apiSubmitDemo(t, c, author, "risc-caiguda-arbrat")

	// Anonymous: 401; an author: 403; the committee, by token or session: 200.
	anon := app.client()
	expectAPIError(t, anon.apiRequest(http.MethodGet, "/api/v1/review/queue", "", nil), http.StatusUnauthorized, "unauthenticated")
	highRev := mustRevision(t, app, high.ID)
	expectAPIError(t, decide(anon, "", highRev, "approve", "Fine."), http.StatusUnauthorized, "unauthenticated")
	expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/review/queue", author, nil), http.StatusForbidden, "forbidden")
	expectAPIError(t, decide(c, author, highRev, "approve", "Fine."), http.StatusForbidden, "forbidden")
	expectStatus(t, c.apiRequest(http.MethodGet, "/api/v1/review/queue", expert, nil), http.StatusOK)
	browser := app.client()
	browser.login("anna@example.org", testPassword)
	res := browser.apiRequest(http.MethodGet, "/api/v1/review/queue", "", nil)
	expectStatus(t, res, http.StatusOK)
	items := decodeJSON[review.QueueList](t, res).Items
	if len(items) != 2 || items[0].Slug != high.Slug || items[1].Slug != low.Slug {
		t.Fatalf("queue, oldest first: %+v", items)
	}
	if res.Header.Get("Cache-Control") != "private, no-store" || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("queue headers: %v", res.Header)
	}

	checkQueueFilters(t, c, reviewer, high.Slug, low.Slug, items[1].ImpactLevel)
}

// checkQueueFilters checks the HTML queue's filters on a queue holding a high-risk entry
// (submitted first, from Drets Socials) and a minimal-risk one (from Parcs i Jardins, at
// impact level lowLevel).
func checkQueueFilters(t *testing.T, c *client, reviewer, high, low, lowLevel string) {
	t.Helper()
	slugs := func(query string) []string {
		res := c.apiRequest(http.MethodGet, "/api/v1/review/queue"+query, reviewer, nil)
		expectStatus(t, res, http.StatusOK)
		var out []string
		for _, it := range decodeJSON[review.QueueList](t, res).Items {
			out = append(out, it.Slug)
		}
		return out
	}
	level := map[string]string{"I": "1", "II": "2", "III": "3", "IV": "4"}[lowLevel]
	for query, want := range map[string][]string{
		"?risk=high+risk":             {high},
		"?risk=minimal+risk":          {low},
		"?risk=limited+risk":          nil,
		"?level=" + level:             {low},
		"?claim=unclaimed":            {high, low},
		"?claim=mine":                 nil,
		"?sort=newest":                {low, high},
		"?department=DRETS":           {high},
		"?department=parcs":           {low},
		"?department=nowhere":         nil,
		"?risk=high+risk&sort=newest": {high},
	} {
		if got := slugs(query); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", query, got, want)
		}
	}
	for query, field := range map[string]string{"?risk=huge": "risk", "?level=5": "level", "?level=x": "level",
		"?claim=theirs": "claim", "?sort=random": "sort"} {
		e := expectAPIError(t, c.apiRequest(http.MethodGet, "/api/v1/review/queue"+query, reviewer, nil), http.StatusUnprocessableEntity, "invalid")
		if e.Error.Fields[field] == "" {
			t.Errorf("%s: fields %v", query, e.Error.Fields)
		}
	}
}

func TestReviewAPIConflictOfInterest(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	rita := app.user("rita@example.org", auth.RoleAuthor, auth.RoleReviewer)
	token, _ := app.newToken(rita, "api")
	reviewer, _ := app.newToken(app.user("anna@example.org", auth.RoleReviewer), "api")
	c := app.client()
	d := apiSubmitDemo(t, c, token, "risc-caiguda-arbrat")
	it := queueItem(t, c, token, "", mustRevision(t, app, d.ID))
	if it == nil || !it.ConflictOfInterest {
		t.Fatalf("the owner's queue entry: %+v", it)
	}
	if other := queueItem(t, c, reviewer, "", it.RevisionID); other.ConflictOfInterest {
		t.Error("another reviewer is told of a conflict of interest")
	}
	for _, decision := range []string{"approve", "request_changes", "reject"} {
		e := expectAPIError(t, decide(c, token, it.RevisionID, decision, "My own work is excellent."), http.StatusForbidden, "forbidden")
		if !strings.Contains(e.Error.Message, "Conflict of interest") {
			t.Errorf("%s: message %q", decision, e.Error.Message)
		}
	}
	if after := queueItem(t, c, reviewer, "", it.RevisionID); after == nil || after.Approvals != 0 || after.State != algorithms.StateSubmitted {
		t.Errorf("refused decisions changed the revision: %+v", after)
	}
	assertAudited(t, app, "forbidden")
	// Another reviewer decides normally.
	res := decide(c, reviewer, it.RevisionID, "approve", "Proportionate.")
	expectStatus(t, res, http.StatusOK)
	if out := decodeJSON[review.DecisionResult](t, res); out.State != algorithms.StatePublished {
		t.Errorf("minimal risk after one approval: %+v", out)
	}
}

// mustRevision returns the ID of the latest revision of an algorithm.
func mustRevision(t *testing.T, app *testApp, algID string) string {
	t.Helper()
	rev, err := app.srv.Algorithms().Latest(t.Context(), algID)
	if err != nil {
		t.Fatal(err)
	}
	return rev.ID
}
