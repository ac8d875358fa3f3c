package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
)

// TestReviewThroughThePages walks a minimal-risk entry through the HTML workflow: the author
// submits, the entry stays private, a reviewer opens it in the queue and approves with a
// public condition, and the fact sheet appears with that condition.
func TestReviewThroughThePages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	rev := publishDemo(t, app, "risc-caiguda-arbrat") // a published entry, to update
	ctx := context.Background()
	author, _ := app.srv.Auth().Users.ByEmail(ctx, "author@example.org")
	actor := algorithms.Actor{UserID: author.ID, Email: author.Email}
	next, err := app.srv.Algorithms().NewRevision(ctx, rev.AlgorithmID, actor)
	if err != nil {
		t.Fatal(err)
	}
	sheet := next.Sheet
	sheet.DescriptionShort = algorithms.Text{"ca": "Text en revisió que encara no és públic: zebrallampec."}
	sheet.RevisionNote = algorithms.Text{"ca": "Nova descripció."}
	if _, err := app.srv.Algorithms().SaveSheet(ctx, next.ID, next.Version, sheet, actor); err != nil {
		t.Fatal(err)
	}

	authorC := app.client()
	authorC.login("author@example.org", testPassword)
	expectRedirect(t, authorC.post("/workspace/"+rev.AlgorithmID+"/submit", nil), "/workspace/"+rev.AlgorithmID)

	public := app.client()
	if strings.Contains(public.get("/ca/algorithms/risc-caiguda-arbrat").body, "zebrallampec") {
		t.Fatal("text under review is public")
	}

	reviewer := app.client()
	reviewer.login("reviewer@example.org", testPassword)
	queue := reviewer.get("/review")
	expectStatus(t, queue, http.StatusOK)
	if !strings.Contains(queue.body, "/review/"+next.ID) {
		t.Fatalf("queue does not list the submitted revision")
	}
	page := reviewer.get("/review/" + next.ID)
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.body, "zebrallampec") || !strings.Contains(page.body, "<ins>") {
		t.Errorf("review page lacks the revision text or the diff against the published revision")
	}
	res := reviewer.post("/review/"+next.ID+"/decision", url.Values{"decision": {"approve"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "Explain the reasons for your decision.") {
		t.Errorf("missing rationale not explained")
	}
	res = reviewer.post("/review/"+next.ID+"/decision", url.Values{"decision": {"approve"},
		"rationale": {"Clear."}, "conditions": {"Revisar anualment els arbres retirats."}})
	expectRedirect(t, res, "/review")

	fs := public.get("/ca/algorithms/risc-caiguda-arbrat")
	expectStatus(t, fs, http.StatusOK)
	if !strings.Contains(fs.body, "zebrallampec") || !strings.Contains(fs.body, "Revisar anualment els arbres retirats.") {
		t.Errorf("published fact sheet lacks the new text or the public condition")
	}
	// The author cannot review; the reviewer cannot submit.
	expectStatus(t, authorC.get("/review"), http.StatusForbidden)
	expectStatus(t, reviewer.post("/workspace/"+rev.AlgorithmID+"/submit", nil), http.StatusForbidden)
}

func TestEmergencyUnpublishLeavesATombstone(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	rev := publishDemo(t, app, "risc-caiguda-arbrat")
	app.user("admin@example.org", auth.RoleAdmin)
	admin := app.client()
	admin.login("admin@example.org", testPassword)
	expectStatus(t, admin.get("/admin/entries"), http.StatusOK)
	expectStatus(t, admin.post("/admin/algorithms/"+rev.AlgorithmID+"/unpublish", url.Values{"reason": {""}}), http.StatusUnprocessableEntity)
	expectRedirect(t, admin.post("/admin/algorithms/"+rev.AlgorithmID+"/unpublish",
		url.Values{"reason": {"Judicial order 123/2026 suspends its use."}}), "/admin/entries")
	res := app.client().get("/en/algorithms/risc-caiguda-arbrat")
	expectStatus(t, res, http.StatusGone)
	if !strings.Contains(res.body, "Judicial order 123/2026 suspends its use.") {
		t.Error("tombstone lacks the public reason")
	}
	// An author may not unpublish.
	authorC := app.client()
	authorC.login("author@example.org", testPassword)
	expectStatus(t, authorC.post("/admin/algorithms/"+rev.AlgorithmID+"/unpublish", url.Values{"reason": {"x"}}), http.StatusForbidden)
}
