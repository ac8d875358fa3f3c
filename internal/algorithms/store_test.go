package algorithms_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/apperr"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type fixture struct {
	store *algorithms.Store
	pool  *pgxpool.Pool
	users map[string]algorithms.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: algorithms.NewStore(pool, defs), pool: pool, users: map[string]algorithms.Actor{}}
	svc := auth.NewService(pool, nil, false)
	for _, u := range []struct{ email, role string }{{"laia@example.org", "author"}, {"marc@example.org", "author"}, {"nuria@example.org", "reviewer"}} {
		created, err := svc.CreateUser(context.Background(), auth.NewUser{Email: u.email, Name: u.email, Roles: []string{u.role},
			Password: "a long enough password"}, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		f.users[u.email] = algorithms.Actor{UserID: created.ID, Email: u.email}
	}
	return f
}

func minimalSheet(name string) algorithms.FactSheet {
	return algorithms.FactSheet{Lang: "ca", Name: algorithms.Text{"ca": name}}
}

func TestCreateAssignsSlugOwnerAndDraft(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	laia := f.users["laia@example.org"]
	alg, rev, err := f.store.Create(ctx, laia, minimalSheet("Detecció de pobresa energètica"))
	if err != nil {
		t.Fatal(err)
	}
	if alg.Slug != "deteccio-de-pobresa-energetica" || !alg.IsOwner(laia.UserID) {
		t.Errorf("algorithm = %+v", alg)
	}
	if rev.Number != 1 || rev.State != algorithms.StateDraft || rev.Version != 1 {
		t.Errorf("revision = number %d state %s version %d", rev.Number, rev.State, rev.Version)
	}
	// The same name again gets a new slug, never a shared one.
	alg2, _, err := f.store.Create(ctx, laia, minimalSheet("Detecció de pobresa energètica"))
	if err != nil || alg2.Slug != "deteccio-de-pobresa-energetica-2" {
		t.Errorf("second slug = %q, %v", alg2.Slug, err)
	}
	if _, _, err := f.store.Create(ctx, laia, algorithms.FactSheet{Lang: "ca", Name: algorithms.Text{"es": "Sólo en castellano"}}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a name only in a translation was accepted: %v", err)
	}
}

func TestSaveSheetIsOptimisticallyLocked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	laia, marc := f.users["laia@example.org"], f.users["marc@example.org"]
	alg, rev, _ := f.store.Create(ctx, laia, minimalSheet("Rutes de recollida"))
	if err := f.store.AddOwner(ctx, alg.ID, "marc@example.org", laia); err != nil {
		t.Fatal(err)
	}
	// Both open version 1; Laia saves first.
	mine := rev.Sheet
	mine.Goal = algorithms.Text{"ca": "Reduir quilòmetres"}
	saved, err := f.store.SaveSheet(ctx, rev.ID, 1, mine, laia)
	if err != nil || saved.Version != 2 {
		t.Fatalf("first save: version %v, %v", saved, err)
	}
	theirs := rev.Sheet
	theirs.Goal = algorithms.Text{"ca": "Una altra cosa"}
	_, err = f.store.SaveSheet(ctx, rev.ID, 1, theirs, marc)
	var stale *algorithms.StaleError
	if !errors.As(err, &stale) || stale.Current.Sheet.Goal["ca"] != "Reduir quilòmetres" {
		t.Fatalf("stale save: err = %v", err)
	}
	if !apperr.Is(err, apperr.PreconditionFailed) {
		t.Errorf("a stale save is not a 412 by default: %v", err)
	}
	// Nothing was lost: the stored text is Laia's.
	got, _ := f.store.Revision(ctx, rev.ID)
	if got.Sheet.Goal["ca"] != "Reduir quilòmetres" || got.Version != 2 {
		t.Errorf("stored goal %q version %d", got.Sheet.Goal["ca"], got.Version)
	}
}

func TestOnlyOwnersEdit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, rev, _ := f.store.Create(ctx, f.users["laia@example.org"], minimalSheet("Soroll"))
	_, err := f.store.SaveSheet(ctx, rev.ID, 1, rev.Sheet, f.users["marc@example.org"])
	if !apperr.Is(err, apperr.NotFound) {
		t.Errorf("a non-owner's save: %v, want not found", err)
	}
	if err := f.store.AddOwner(ctx, rev.AlgorithmID, "nuria@example.org", f.users["laia@example.org"]); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a reviewer was made co-owner: %v", err)
	}
}

func TestSubmittedRevisionIsNotEditable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	laia := f.users["laia@example.org"]
	_, rev, _ := f.store.Create(ctx, laia, minimalSheet("Arbrat"))
	if _, err := f.pool.Exec(ctx, `UPDATE revisions SET state = 'submitted' WHERE id = $1`, rev.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.SaveSheet(ctx, rev.ID, 1, rev.Sheet, laia); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("saving a submitted revision: %v, want conflict", err)
	}
}

func TestValidationNamesEachField(t *testing.T) {
	sheet := minimalSheet("X")
	sheet.DescriptionShort = algorithms.Text{"ca": strings.Repeat("a", 151)}
	sheet.Website = "javascript:alert(1)"
	sheet.ContactEmail = "not an address"
	sheet.Domain = "astrology"
	sheet.StartDate = "2024-13-01"
	sheet.DataSources = []algorithms.DataSource{{Name: algorithms.Text{"ca": "Padró"}, OpenDataURL: "ftp://x"}}
	err := sheet.Validate()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("Validate = %v", err)
	}
	want := map[string]string{
		"description_short":            "Use at most %s characters.",
		"website":                      "Enter a web address that starts with https:// or http://.",
		"contact_email":                "Enter a valid e-mail address, like name@example.org.",
		"domain":                       "Choose one of the options.",
		"start_date":                   "Enter a date as YYYY-MM-DD.",
		"data_sources.0.open_data_url": "Enter a web address that starts with https:// or http://.",
	}
	if diff := cmp.Diff(want, e.Fields); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"150"}, e.FieldArgs["description_short"]); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}

func TestEveryEnumerationValueIsAccepted(t *testing.T) {
	for field, values := range map[string][]string{
		"domain": algorithms.Domains, "status": algorithms.Statuses,
		"algorithm_type": algorithms.AlgorithmTypes, "type": algorithms.Types,
	} {
		for _, v := range append(values, "not-a-value") {
			sheet := minimalSheet("X")
			switch field {
			case "domain":
				sheet.Domain = v
			case "status":
				sheet.Status = v
			case "algorithm_type":
				sheet.AlgorithmType = v
			case "type":
				sheet.Type = v
			}
			err := sheet.Validate()
			if (v == "not-a-value") != (err != nil) {
				t.Errorf("%s = %q: err = %v", field, v, err)
			}
		}
	}
	for _, kind := range append(algorithms.ImpactAssessmentKinds, "vibes") {
		sheet := minimalSheet("X")
		sheet.ImpactAssessments = []algorithms.ImpactAssessment{{Kind: kind}}
		if err := sheet.Validate(); (kind == "vibes") != (err != nil) {
			t.Errorf("impact assessment kind %q: %v", kind, err)
		}
	}
}

func TestMissingListsRequiredFieldsInOrder(t *testing.T) {
	sheet := minimalSheet("X")
	sheet.Goal = algorithms.Text{"es": "Solo traducido"} // a translation does not count
	sheet.Description = algorithms.Text{"ca": "massa curt"}
	var got []string
	for _, p := range sheet.Missing() {
		got = append(got, p.Field)
	}
	want := []string{"description_short", "organization", "department", "contact_email", "area", "domain", "status",
		"goal", "decision_making_process", "impact", "proportionality", "lawful_basis",
		"training_data", "source_data", "connected_data_sources", "algorithm_type", "type", "description",
		"risks", "human_intervention", "monitoring", "objection_procedure"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
}

func TestRiskAnswersSetTheRoute(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	laia := f.users["laia@example.org"]
	_, rev, _ := f.store.Create(ctx, laia, minimalSheet("Ajuts"))
	answers := risk.Answers{Checklist: map[string]bool{}, Impact: map[string]string{}}
	for _, q := range f.store.Risk.Checklist.Questions() {
		answers.Checklist[q.ID] = q.ID == "annex3_5" // essential public services: high risk
	}
	for _, q := range f.store.Risk.Impact.Questions {
		answers.Impact[q.ID] = q.Choices[0].ID
	}
	saved, err := f.store.SaveRisk(ctx, rev.ID, rev.Version, answers, laia)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Assessment.Tier != risk.High || !saved.Assessment.Route.ExpertRequired || saved.Assessment.Route.Approvals != 2 {
		t.Errorf("assessment = %+v", saved.Assessment)
	}
	var category string
	var approvals int
	var expert bool
	if err := f.pool.QueryRow(ctx, `SELECT risk_category, approvals_needed, expert_required FROM revisions WHERE id = $1`,
		rev.ID).Scan(&category, &approvals, &expert); err != nil {
		t.Fatal(err)
	}
	if category != "high risk" || approvals != 2 || !expert {
		t.Errorf("stored route: %s %d %v", category, approvals, expert)
	}
}
