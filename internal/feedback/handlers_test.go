package feedback_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/civictech/registry/internal/feedback"
)

func formPath(lang string) string { return "/" + lang + "/algorithms/" + slug + "/feedback" }

func TestQuestionIsStoredAndStaffNotified(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	c := a.client()
	page := c.get(formPath("en") + "?revision=1")
	expectStatus(t, page, http.StatusOK)
	for _, want := range []string{`name="revision" value="1"`, `<div class="hp" aria-hidden="true">`, `name="website"`,
		`id="f-kind"`, `id="f-body"`, `id="f-email"`, "Only to send you the answer."} {
		if !strings.Contains(page.body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if strings.Contains(page.body, "style=") {
		t.Error("form has an inline style, which the CSP refuses")
	}

	res := c.post(formPath("en"), url.Values{"kind": {"question"}, "body": {question}, "email": {"citizen@example.org"}, "revision": {"1"}})
	expectRedirect(t, res, formPath("en")+"/sent")
	sent := c.get(formPath("en") + "/sent")
	expectStatus(t, sent, http.StatusOK)
	if !strings.Contains(sent.body, "Thank you for your message") {
		t.Error("no thanks on the page after sending")
	}

	var kind, body, email, lang, status string
	var rev, hashLen int
	var public bool
	err := a.pool.QueryRow(context.Background(), `SELECT kind, body, email, lang, status, revision_number, public, octet_length(client_hash)
		FROM feedback`).Scan(&kind, &body, &email, &lang, &status, &rev, &public, &hashLen)
	if err != nil {
		t.Fatal(err)
	}
	if kind != "question" || body != question || email != "citizen@example.org" || lang != "en" || status != "new" || rev != 1 || public || hashLen != 32 {
		t.Errorf("stored %q %q %q %q %q rev %d public %v hash %d bytes", kind, body, email, lang, status, rev, public, hashLen)
	}
	// The raw address is nowhere in the table, in any column.
	if n := a.count(`SELECT count(*) FROM feedback f WHERE f::text LIKE '%127.0.0.1%'`); n != 0 {
		t.Error("the client's IP address is stored in the feedback table")
	}

	// The owner and both administrators, once each; not the reviewer.
	want := []string{"admin2@example.org", "admin@example.org", "author@example.org"}
	if got := a.outbox(feedback.NotifyReceived); !slices.Equal(got, want) {
		t.Errorf("notified %v, want %v", got, want)
	}
	if n := a.count(`SELECT count(*) FROM outbox WHERE kind = $1 AND body LIKE '%> ' || $2 || '%'`, feedback.NotifyReceived, question); n != 3 {
		t.Errorf("%d notifications quote the message, want 3", n)
	}
	if n := a.count(`SELECT count(*) FROM outbox WHERE body LIKE '%citizen@example.org%'`); n != 0 {
		t.Error("the citizen's e-mail address was mailed to staff")
	}
}

func TestInvalidMessageShowsErrorsAndKeepsText(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	c := a.client()
	res := c.post(formPath("en"), url.Values{"kind": {""}, "body": {"too <b>"}, "email": {"not-an-email"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{`href="#f-kind"`, `href="#f-body"`, `href="#f-email"`, `id="f-body-error"`, `id="f-email-error"`,
		"Write at least 10 characters.", "Enter a valid e-mail address, like name@example.org, or leave this field empty.",
		`>too &lt;b&gt;</textarea>`, `value="not-an-email"`, `aria-invalid="true"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("422 page lacks %s", want)
		}
	}
	res = c.post(formPath("en"), url.Values{"kind": {"error"}, "body": {strings.Repeat("é", 5001)}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, `value="error" checked`) || !strings.Contains(res.body, "Use at most 5000 characters.") {
		t.Error("the chosen kind is lost or the length error is missing")
	}
	if n := a.count(`SELECT count(*) FROM feedback`); n != 0 {
		t.Errorf("%d invalid messages stored", n)
	}
}

// TestHoneypotIsDroppedSilently: a bot that fills the hidden field is thanked like anyone,
// so it learns nothing, and its message is neither stored nor mailed.
func TestHoneypotIsDroppedSilently(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	res := a.client().post(formPath("ca"), url.Values{"kind": {"question"}, "body": {question}, feedback.Honeypot: {"http://spam.example"}})
	expectRedirect(t, res, formPath("ca")+"/sent")
	if n := a.count(`SELECT count(*) FROM feedback`); n != 0 {
		t.Error("a honeypot submission was stored")
	}
	if got := a.outbox(feedback.NotifyReceived); len(got) != 0 {
		t.Errorf("a honeypot submission was mailed to %v", got)
	}
}

func TestSixthMessageFromOneAddressIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	c := a.client()
	form := url.Values{"kind": {"question"}, "body": {question}}
	for i := range 5 {
		if res := c.post(formPath("ca"), form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("message %d: %d", i+1, res.StatusCode)
		}
	}
	res := c.post(formPath("en"), form)
	expectStatus(t, res, http.StatusTooManyRequests)
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 600 {
		t.Errorf("Retry-After %q, want 1–600 seconds", res.Header.Get("Retry-After"))
	}
	if !strings.Contains(res.body, "You have sent several messages in a short time.") {
		t.Error("the 429 page does not explain itself")
	}
	if n := a.count(`SELECT count(*) FROM feedback`); n != 5 {
		t.Errorf("%d messages stored, want 5", n)
	}
}

func TestFeedbackOnlyOnPublishedEntries(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.draft("mapes-predictius-soroll") // a draft only: the public cannot see it
	rev := a.publish(slug)
	c := a.client()
	form := url.Values{"kind": {"question"}, "body": {question}}
	for _, s := range []string{"mapes-predictius-soroll", "no-such-entry"} {
		expectStatus(t, c.get("/en/algorithms/"+s+"/feedback"), http.StatusNotFound)
		expectStatus(t, c.post("/en/algorithms/"+s+"/feedback", form), http.StatusNotFound)
	}
	if err := a.srv.Review().Unpublish(context.Background(), rev.AlgorithmID, "Court order.", a.actor("admin@example.org")); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, c.get(formPath("en")), http.StatusNotFound)
	expectStatus(t, c.post(formPath("en"), form), http.StatusNotFound)
	if n := a.count(`SELECT count(*) FROM feedback`); n != 0 {
		t.Errorf("%d messages stored about entries the public cannot see", n)
	}
}

func TestModerationIsForAdministrators(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	a.client().post(formPath("en"), url.Values{"kind": {"error"}, "body": {question}, "email": {"citizen@example.org"}})
	id := strconv.Itoa(a.count(`SELECT id FROM feedback`))

	anonymous := a.client()
	expectRedirect(t, anonymous.get("/admin/feedback"), "/login?next=%2Fadmin%2Ffeedback")
	if res := anonymous.post("/admin/feedback/"+id, url.Values{"action": {"reject"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous moderation: %d, want 401", res.StatusCode)
	}
	for _, who := range []string{"author@example.org", "reviewer@example.org"} {
		c := a.staff(who)
		expectStatus(t, c.get("/admin/feedback"), http.StatusForbidden)
		expectStatus(t, c.post("/admin/feedback/"+id, url.Values{"action": {"reject"}}), http.StatusForbidden)
	}
	if n := a.count(`SELECT count(*) FROM feedback WHERE status = 'new'`); n != 1 {
		t.Fatal("a refused request changed the message")
	}
	page := a.staff("admin@example.org").get("/admin/feedback")
	expectStatus(t, page, http.StatusOK)
	for _, want := range []string{question, "citizen@example.org", `href="/en/algorithms/` + slug + `"`, "Error report", `id="f-answer-` + id + `"`} {
		if !strings.Contains(strings.ReplaceAll(page.body, "&#39;", "'"), want) {
			t.Errorf("moderation page lacks %s", want)
		}
	}
}

func TestModerationErrorsAtTheField(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	a.client().post(formPath("en"), url.Values{"kind": {"question"}, "body": {question}})
	id := strconv.Itoa(a.count(`SELECT id FROM feedback`))
	admin := a.staff("admin@example.org")
	res := admin.post("/admin/feedback/"+id, url.Values{"action": {"answer"}, "answer": {"  "}, "status": {"new"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, `href="#f-answer-`+id+`"`) || !strings.Contains(res.body, "Write an answer.") {
		t.Error("the empty answer's error is not linked to its field")
	}
	res = admin.post("/admin/feedback/"+id, url.Values{"action": {"publish"}, "status": {"new"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "Answer the message before publishing it.") {
		t.Error("publishing an unanswered message is not explained")
	}
	expectStatus(t, admin.post("/admin/feedback/"+id, url.Values{"action": {"delete"}}), http.StatusBadRequest)
	expectStatus(t, admin.post("/admin/feedback/nope", url.Values{"action": {"reject"}}), http.StatusNotFound)
	expectStatus(t, admin.post("/admin/feedback/424242", url.Values{"action": {"reject"}}), http.StatusNotFound)
	if n := a.count(`SELECT count(*) FROM feedback WHERE status = 'new' AND answer = ''`); n != 1 {
		t.Error("a refused action changed the message")
	}
}

func TestAnsweredQuestionIsPublishedUnderTheFactSheet(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	a.publish(slug)
	const answer = "Prioritzem els arbres amb més risc estimat i els que són a prop d'escoles."
	public := a.client()
	factSheet := "/es/algorithms/" + slug
	before := public.get(factSheet) // now in the cache
	expectStatus(t, before, http.StatusOK)
	if !strings.Contains(before.body, `href="/es/algorithms/`+slug+`/feedback?revision=1"`) {
		t.Error("the fact sheet has no link to ask a question")
	}
	a.client().post(formPath("es"), url.Values{"kind": {"question"}, "body": {question}, "email": {"citizen@example.org"}})
	a.client().post(formPath("es"), url.Values{"kind": {"question"}, "body": {"Una altra pregunta que ningú no respon."}})
	id := strconv.Itoa(a.count(`SELECT min(id) FROM feedback`))
	admin := a.staff("admin@example.org")
	shows := func(text string) bool {
		return strings.Contains(strings.ReplaceAll(public.get(factSheet).body, "&#39;", "'"), text)
	}

	// Answered, not yet public: the citizen gets the answer in the language they wrote in.
	expectRedirect(t, admin.post("/admin/feedback/"+id, url.Values{"action": {"answer"}, "answer": {answer}, "status": {"new"}}),
		"/admin/feedback?status=new#item-"+id)
	if shows(question) || shows(answer) {
		t.Fatal("an answer that is not published shows on the fact sheet")
	}
	if got := a.outbox(feedback.NotifyAnswer); !slices.Equal(got, []string{"citizen@example.org"}) {
		t.Fatalf("answer mailed to %v", got)
	}
	if n := a.count(`SELECT count(*) FROM outbox WHERE kind = $1 AND subject LIKE 'Respuesta a su mensaje sobre %' AND body LIKE '%' || $2 || '%'`,
		feedback.NotifyAnswer, answer); n != 1 {
		t.Error("the answer mail is not in Spanish or lacks the answer")
	}

	// Published: the cached fact sheet is refreshed at once.
	expectRedirect(t, admin.post("/admin/feedback/"+id, url.Values{"action": {"publish"}, "status": {"answered"}}),
		"/admin/feedback?status=answered#item-"+id)
	after := public.get(factSheet)
	if after.Header.Get("ETag") == before.Header.Get("ETag") || !shows(question) || !shows(answer) {
		t.Fatal("the published question and answer do not show on the fact sheet")
	}
	if shows("citizen@example.org") || shows("ningú no respon") {
		t.Error("the fact sheet shows an e-mail address or an unanswered message")
	}
	if strings.Contains(public.get("/es/algorithms/"+slug+"/versions/1").body, answer) {
		t.Error("questions and answers show on a version's permanent page")
	}

	// Taken off, then published again with a new answer in one step, then rejected.
	admin.post("/admin/feedback/"+id, url.Values{"action": {"unpublish"}})
	if shows(answer) {
		t.Fatal("an unpublished answer still shows")
	}
	admin.post("/admin/feedback/"+id, url.Values{"action": {"answer"}, "answer": {answer + " Més detalls al web."}, "public": {"1"}})
	if !shows("Més detalls al web.") {
		t.Fatal("the new answer, published in the same step, does not show")
	}
	if n := len(a.outbox(feedback.NotifyAnswer)); n != 2 {
		t.Errorf("%d answer mails, want 2 (one per new answer text)", n)
	}
	admin.post("/admin/feedback/"+id, url.Values{"action": {"reject"}})
	if shows(question) {
		t.Error("a rejected message still shows")
	}
	if n := a.count(`SELECT count(*) FROM feedback WHERE status = 'rejected' AND NOT public`); n != 1 {
		t.Error("the message is not rejected")
	}
	for action, want := range map[string]int{feedback.AuditAnswered: 2, feedback.AuditPublished: 2, feedback.AuditUnpublished: 1, feedback.AuditRejected: 1} {
		if n := a.count(`SELECT count(*) FROM audit_events WHERE action = $1 AND subject = $2 AND actor_email = 'admin@example.org'`,
			action, "feedback:"+id); n != want {
			t.Errorf("%d %s events, want %d", n, action, want)
		}
	}
}
