package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/audit"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/review"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type fixture struct {
	t      *testing.T
	pool   *pgxpool.Pool
	store  *algorithms.Store
	wf     *review.Service
	author algorithms.Actor
	people map[string]review.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(pool, nil, false)
	f := &fixture{t: t, pool: pool, store: algorithms.NewStore(pool, defs), people: map[string]review.Actor{}}
	f.wf = review.NewService(pool, f.store, svc.Users, "http://registry.test")
	for name, roles := range map[string][]string{
		"laia": {auth.RoleAuthor}, "rita": {auth.RoleAuthor, auth.RoleReviewer},
		"anna": {auth.RoleReviewer}, "carles": {auth.RoleReviewer}, "bernat": {auth.RoleExpert},
	} {
		u, err := svc.CreateUser(context.Background(), auth.NewUser{Email: name + "@example.org", Name: name, Roles: roles,
			Password: "a long enough password"}, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		f.people[name] = review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
	}
	f.author = algorithms.Actor{UserID: f.people["laia"].UserID, Email: "laia@example.org"}
	return f
}

// entry registers the demo entry with slug as a complete draft owned by Laia.
func (f *fixture) entry(slug string) *algorithms.Revision {
	f.t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range entries {
		if e.Slug != slug {
			continue
		}
		var sheet algorithms.FactSheet
		var answers risk.Answers
		if err := json.Unmarshal(e.FactSheet, &sheet); err != nil {
			f.t.Fatal(err)
		}
		if err := json.Unmarshal(e.Risk, &answers); err != nil {
			f.t.Fatal(err)
		}
		ctx := context.Background()
		_, rev, err := f.store.Create(ctx, f.author, sheet)
		if err != nil {
			f.t.Fatal(err)
		}
		if rev, err = f.store.SaveRisk(ctx, rev.ID, rev.Version, answers, f.author); err != nil {
			f.t.Fatal(err)
		}
		return rev
	}
	f.t.Fatalf("no demo entry %s", slug)
	return nil
}

func (f *fixture) owner() review.Actor { return f.people["laia"] }

func (f *fixture) state(revID string) string {
	f.t.Helper()
	rev, err := f.store.Revision(context.Background(), revID)
	if err != nil {
		f.t.Fatal(err)
	}
	return rev.State
}

func approve(conditions string) review.Decision {
	return review.Decision{Action: review.Approve, Rationale: "Complete and proportionate.", Conditions: conditions}
}

const highRisk = "deteccio-pobresa-energetica" // high risk, level III: two approvals, one by an expert
const minimal = "risc-caiguda-arbrat"          // minimal risk: one approval

func TestHighRiskJourney(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(highRisk)
	if err := f.wf.Submit(ctx, rev.ID, f.owner()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.wf.Decide(ctx, rev.ID, review.Decision{Action: review.RequestChanges, Rationale: "Explain the objection procedure."}, f.people["anna"]); err != nil {
		t.Fatal(err)
	}
	if got := f.state(rev.ID); got != algorithms.StateChangesRequested {
		t.Fatalf("after request for changes: %s", got)
	}
	// The author edits and resubmits.
	cur, _ := f.store.Revision(ctx, rev.ID)
	sheet := cur.Sheet
	sheet.ObjectionProcedure["ca"] += " També per telèfon al 010."
	if _, err := f.store.SaveSheet(ctx, rev.ID, cur.Version, sheet, f.author); err != nil {
		t.Fatal(err)
	}
	if err := f.wf.Submit(ctx, rev.ID, f.owner()); err != nil {
		t.Fatal(err)
	}
	out, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["anna"])
	if err != nil {
		t.Fatal(err)
	}
	if out.State != algorithms.StateInReview || out.Approvals != 1 || out.Needed != 2 {
		t.Fatalf("after the first approval: %+v", out)
	}
	if _, err := f.store.LatestPublished(ctx, rev.AlgorithmID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("published short of the route: %v", err)
	}
	out, err = f.wf.Decide(ctx, rev.ID, approve("Audit the model's errors by district every six months."), f.people["bernat"])
	if err != nil || out.State != algorithms.StatePublished {
		t.Fatalf("after the expert's approval: %+v, %v", out, err)
	}
	pub, err := f.wf.PublicationOf(ctx, rev.ID)
	if err != nil || pub.Approvals != 2 || len(pub.Conditions) != 1 {
		t.Fatalf("publication = %+v, %v", pub, err)
	}
	d, err := f.wf.Detail(ctx, rev.ID)
	if err != nil || len(d.Rounds) != 2 || len(d.Decisions) != 3 {
		t.Fatalf("detail: %d rounds, %d decisions, %v", len(d.Rounds), len(d.Decisions), err)
	}
	// Every transition left an audit event.
	for _, action := range []string{"review_submit", "review_request_changes", "review_approve"} {
		events, err := audit.List(ctx, f.pool, audit.Filter{Action: action})
		if err != nil || len(events) == 0 {
			t.Errorf("no audit event %s (%v)", action, err)
		}
	}
	events, _ := audit.List(ctx, f.pool, audit.Filter{Action: "review_submit"})
	if len(events) != 2 {
		t.Errorf("submissions audited: %d, want 2", len(events))
	}
}

func TestExpertRequiredForHighRisk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(highRisk)
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	for _, who := range []string{"anna", "carles"} {
		if _, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people[who]); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.state(rev.ID); got != algorithms.StateInReview {
		t.Fatalf("two approvals without the expert: %s, want in_review", got)
	}
}

func TestNoDoubleApprovalBySamePerson(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(highRisk)
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	if _, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["bernat"]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["bernat"]); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second approval by the same expert: %v, want conflict", err)
	}
	if got := f.state(rev.ID); got != algorithms.StateInReview {
		t.Fatalf("state %s after a refused double approval", got)
	}
}

func TestNoSelfReview(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(minimal)
	// Rita, an author who also sits on the committee, co-owns and edits the entry.
	alg, _ := f.store.Algorithm(ctx, rev.AlgorithmID)
	if err := f.store.AddOwner(ctx, alg.ID, "rita@example.org", f.author); err != nil {
		t.Fatal(err)
	}
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	_, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["rita"])
	if !errors.Is(err, review.ErrConflictOfInterest) {
		t.Fatalf("co-owner's approval: %v, want conflict of interest", err)
	}
	events, _ := audit.List(ctx, f.pool, audit.Filter{Action: audit.Forbidden, Actor: "rita@example.org"})
	if len(events) == 0 {
		t.Error("refused self-review not audited")
	}
	// An editor who is not an owner is conflicted too.
	rev2 := f.entry(minimal)
	_ = f.wf.Submit(ctx, rev2.ID, f.owner())
	if _, err := f.pool.Exec(ctx, `INSERT INTO revision_editors (revision_id, user_id) VALUES ($1, $2)`, rev2.ID, f.people["anna"].UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.wf.Decide(ctx, rev2.ID, approve(""), f.people["anna"]); !errors.Is(err, review.ErrConflictOfInterest) {
		t.Fatalf("editor's approval: %v, want conflict of interest", err)
	}
}

func TestSubmitRequiresCompleteness(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, rev, err := f.store.Create(ctx, f.author, algorithms.FactSheet{Lang: "ca", Name: algorithms.Text{"ca": "Incomplet"}})
	if err != nil {
		t.Fatal(err)
	}
	err = f.wf.Submit(ctx, rev.ID, f.owner())
	var missing *review.MissingError
	if !errors.As(err, &missing) || len(missing.Problems) < 10 || !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("incomplete submission: %v", err)
	}
	if got := f.state(rev.ID); got != algorithms.StateDraft {
		t.Fatalf("state %s after a refused submission", got)
	}
	// A prohibited practice can never be submitted.
	full := f.entry(minimal)
	answers := full.Risk
	answers.Checklist["art5_1_c"] = true
	if _, err := f.store.SaveRisk(ctx, full.ID, full.Version, answers, f.author); err != nil {
		t.Fatal(err)
	}
	if err := f.wf.Submit(ctx, full.ID, f.owner()); !errors.As(err, &missing) {
		t.Fatalf("unacceptable submission: %v", err)
	}
}

func TestRejectionEndsTheRevision(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(highRisk)
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	if _, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["anna"]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.wf.Decide(ctx, rev.ID, review.Decision{Action: review.Reject, Rationale: "Disproportionate."}, f.people["carles"]); err != nil {
		t.Fatal(err)
	}
	if got := f.state(rev.ID); got != algorithms.StateRejected {
		t.Fatalf("state %s, want rejected", got)
	}
	if _, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["bernat"]); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("approval after rejection: %v", err)
	}
	if err := f.wf.Submit(ctx, rev.ID, f.owner()); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("resubmitting a rejected revision: %v", err)
	}
}

func TestDecisionNeedsRationaleAndException(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(minimal)
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	if _, err := f.wf.Decide(ctx, rev.ID, review.Decision{Action: review.Approve}, f.people["anna"]); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("decision without rationale: %v", err)
	}
	exc := f.entry("prioritat-semaforica-bus-emergencies") // claims the Article 6(3) exception
	_ = f.wf.Submit(ctx, exc.ID, f.owner())
	if _, err := f.wf.Decide(ctx, exc.ID, approve(""), f.people["anna"]); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("approval without accepting the exception: %v", err)
	}
	d := approve("")
	d.AcceptException = true
	if out, err := f.wf.Decide(ctx, exc.ID, d, f.people["anna"]); err != nil || out.State != algorithms.StatePublished {
		t.Fatalf("approval accepting the exception: %+v, %v", out, err)
	}
}

// TestConcurrentDecisions runs decisions on one revision in parallel, many times: the row
// lock must leave exactly one consistent outcome.
func TestConcurrentDecisions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		rev := f.entry(minimal) // one approval publishes
		if err := f.wf.Submit(ctx, rev.ID, f.owner()); err != nil {
			t.Fatal(err)
		}
		decisions := map[string]review.Decision{
			"anna":   approve("A"),
			"carles": approve("C"),
			"bernat": {Action: review.Reject, Rationale: "No."},
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		succeeded := 0
		for who, d := range decisions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.wf.Decide(ctx, rev.ID, d, f.people[who]); err == nil {
					mu.Lock()
					succeeded++
					mu.Unlock()
				} else if !apperr.Is(err, apperr.Conflict) {
					t.Errorf("%s: unexpected error %v", who, err)
				}
			}()
		}
		wg.Wait()
		state := f.state(rev.ID)
		var pubs, decided int
		_ = f.pool.QueryRow(ctx, `SELECT count(*) FROM publications WHERE revision_id = $1`, rev.ID).Scan(&pubs)
		_ = f.pool.QueryRow(ctx, `SELECT count(*) FROM review_decisions WHERE revision_id = $1`, rev.ID).Scan(&decided)
		if succeeded != 1 || decided != 1 {
			t.Fatalf("round %d: %d decisions succeeded, %d stored; want exactly one", i, succeeded, decided)
		}
		if (state == algorithms.StatePublished) != (pubs == 1) || (state != algorithms.StatePublished && state != algorithms.StateRejected) {
			t.Fatalf("round %d: state %s with %d publications", i, state, pubs)
		}
	}
}

func TestWithdrawAndQueue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b := f.entry(minimal), f.entry(highRisk)
	_ = f.wf.Submit(ctx, a.ID, f.owner())
	_ = f.wf.Submit(ctx, b.ID, f.owner())
	if err := f.wf.Claim(ctx, b.ID, f.people["anna"]); err != nil {
		t.Fatal(err)
	}
	if err := f.wf.Claim(ctx, b.ID, f.people["carles"]); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second claim: %v", err)
	}
	items, err := f.wf.Queue(ctx, f.people["anna"].UserID, review.QueueFilter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("queue: %d items, %v", len(items), err)
	}
	mine, _ := f.wf.Queue(ctx, f.people["anna"].UserID, review.QueueFilter{Claim: "mine"})
	if len(mine) != 1 || mine[0].RevisionID != b.ID || mine[0].Route.Approvals != 2 || !mine[0].Route.ExpertRequired {
		t.Fatalf("my queue: %+v", mine)
	}
	high, _ := f.wf.Queue(ctx, "", review.QueueFilter{Tier: "high risk"})
	if len(high) != 1 {
		t.Fatalf("high-risk filter: %d items", len(high))
	}
	if err := f.wf.Withdraw(ctx, a.ID, f.people["anna"]); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a reviewer withdrew an author's revision: %v", err)
	}
	if err := f.wf.Withdraw(ctx, a.ID, f.owner()); err != nil {
		t.Fatal(err)
	}
	items, _ = f.wf.Queue(ctx, "", review.QueueFilter{})
	if len(items) != 1 {
		t.Fatalf("queue after withdrawal: %d items", len(items))
	}
	var waiting int
	_ = f.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE kind = 'review_waiting'`).Scan(&waiting)
	if waiting == 0 {
		t.Error("reviewers were not notified of submissions")
	}
}

func TestRetirementNeedsOneApproval(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(highRisk)
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	_, _ = f.wf.Decide(ctx, rev.ID, approve(""), f.people["anna"])
	if _, err := f.wf.Decide(ctx, rev.ID, approve(""), f.people["bernat"]); err != nil {
		t.Fatal(err)
	}
	next, err := f.store.NewRevision(ctx, rev.AlgorithmID, f.author)
	if err != nil {
		t.Fatal(err)
	}
	sheet := next.Sheet
	sheet.Status, sheet.EndDate = "retired", "2026-12-31"
	sheet.EndReason = algorithms.Text{"ca": "Substituït per un nou servei."}
	if _, err := f.store.SaveSheet(ctx, next.ID, next.Version, sheet, f.author); err != nil {
		t.Fatal(err)
	}
	if err := f.wf.Submit(ctx, next.ID, f.owner()); err != nil {
		t.Fatal(err)
	}
	out, err := f.wf.Decide(ctx, next.ID, approve(""), f.people["carles"])
	if err != nil || out.State != algorithms.StatePublished || out.Needed != 1 {
		t.Fatalf("retirement: %+v, %v", out, err)
	}
}

func TestEachPublishedRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rev := f.entry(minimal)
	draft := f.entry(highRisk) // never submitted: must not appear
	_ = f.wf.Submit(ctx, rev.ID, f.owner())
	if _, err := f.wf.Decide(ctx, rev.ID, approve("Review yearly."), f.people["anna"]); err != nil {
		t.Fatal(err)
	}
	var got []*algorithms.Record
	if err := f.store.EachPublished(ctx, algorithms.EachOptions{}, func(r *algorithms.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d records, want 1", len(got))
	}
	r := got[0]
	if r.UUID != rev.AlgorithmID || r.Revision != 1 || !r.Latest || r.RiskCategory != "minimal risk" ||
		r.Governance.Approvals != 1 || len(r.Governance.Conditions) != 1 || r.PublicationDate == "" || r.Name["ca"] == "" {
		t.Errorf("record = %+v", r)
	}
	_ = draft
}
