package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/review"
)

// publishDemo registers the demo entry slug as author@example.org and publishes it through
// the workflow (reviewer@ and expert@ approve as its route needs). It returns the revision.
func publishDemo(t *testing.T, app *testApp, slug string) *algorithms.Revision {
	t.Helper()
	ctx := context.Background()
	people := map[string]*auth.User{}
	for email, role := range map[string]string{"author@example.org": auth.RoleAuthor, "reviewer@example.org": auth.RoleReviewer, "expert@example.org": auth.RoleExpert} {
		u, err := app.srv.Auth().Users.ByEmail(ctx, email)
		if err != nil {
			u = app.user(email, role)
		}
		people[email] = u
	}
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
		_ = json.Unmarshal(e.FactSheet, &sheet)
		_ = json.Unmarshal(e.Risk, &answers)
		author := algorithms.Actor{UserID: people["author@example.org"].ID, Email: "author@example.org"}
		_, rev, err := app.srv.Algorithms().CreateWithSlug(ctx, author, sheet, e.Slug)
		if err != nil {
			t.Fatal(err)
		}
		if rev, err = app.srv.Algorithms().SaveRisk(ctx, rev.ID, rev.Version, answers, author); err != nil {
			t.Fatal(err)
		}
		approveAll(t, app, rev, people)
		return rev
	}
	t.Fatalf("no demo entry %s", slug)
	return nil
}

func approveAll(t *testing.T, app *testApp, rev *algorithms.Revision, people map[string]*auth.User) {
	t.Helper()
	ctx := context.Background()
	actor := func(email string) review.Actor {
		u := people[email]
		return review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
	}
	wf := app.srv.Review()
	if err := wf.Submit(ctx, rev.ID, actor("author@example.org")); err != nil {
		t.Fatal(err)
	}
	d := review.Decision{Action: review.Approve, Rationale: "ok", AcceptException: true}
	for _, who := range []string{"reviewer@example.org", "expert@example.org"} {
		out, err := wf.Decide(ctx, rev.ID, d, actor(who))
		if err != nil {
			t.Fatal(err)
		}
		if out.State == algorithms.StatePublished {
			return
		}
	}
}

// publishChange publishes a new revision of rev's entry, changed by change, through the
// workflow (as publishDemo's people).
func publishChange(t *testing.T, app *testApp, rev *algorithms.Revision, change func(*algorithms.FactSheet)) {
	t.Helper()
	ctx := context.Background()
	people := map[string]*auth.User{}
	for _, e := range []string{"author@example.org", "reviewer@example.org", "expert@example.org"} {
		people[e], _ = app.srv.Auth().Users.ByEmail(ctx, e)
	}
	actor := algorithms.Actor{UserID: people["author@example.org"].ID, Email: "author@example.org"}
	next, err := app.srv.Algorithms().NewRevision(ctx, rev.AlgorithmID, actor)
	if err != nil {
		t.Fatal(err)
	}
	sheet := next.Sheet
	change(&sheet)
	if _, err := app.srv.Algorithms().SaveSheet(ctx, next.ID, next.Version, sheet, actor); err != nil {
		t.Fatal(err)
	}
	approveAll(t, app, next, people)
}

// TestTwoInstancesServeTheNewRevision runs two instances on one database: after a
// publication through one, the other serves the new revision, though it had cached the old
// one. Fact-sheet pages are cached under their address and served without asking the
// database, so the other instance learns of the publication only through LISTEN/NOTIFY.
func TestTwoInstancesServeTheNewRevision(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	other, err := New(Config{BaseURL: "http://127.0.0.1", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))}, app.pool,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	otherHTTP := httptest.NewServer(other.Handler())
	t.Cleanup(otherHTTP.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go other.RunCacheListener(ctx)

	rev := publishDemo(t, app, "risc-caiguda-arbrat")
	path := "/ca/algorithms/risc-caiguda-arbrat"
	b := &client{t: t, app: &testApp{t: t, http: otherHTTP}, c: otherHTTP.Client()}
	first := b.get(path)
	expectStatus(t, first, 200)

	// A new revision with a new short description is published through the first instance.
	publishChange(t, app, rev, func(s *algorithms.FactSheet) {
		s.DescriptionShort = algorithms.Text{"ca": "Descripció nova i inconfusible per a la prova de coherència."}
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		if strings.Contains(b.get(path).body, "inconfusible") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the other instance still serves the old fact sheet 10 s after the publication")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
