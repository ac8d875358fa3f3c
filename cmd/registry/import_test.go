package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/opendata"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/review"
	"github.com/civictech/registry/internal/server"
)

func newTestServer(t *testing.T, pool *pgxpool.Pool) *server.Server {
	t.Helper()
	srv, err := server.New(server.Config{BaseURL: "http://registry.test", SessionKey: []byte(strings.Repeat("k", 64)), SecretsKey: []byte(strings.Repeat("s", 32))},
		pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// target is a fresh register to import into, with one author and the committee, which the
// commands run against (DATABASE_URL).
type target struct {
	srv              *server.Server
	author           algorithms.Actor
	reviewer, expert review.Actor
}

func newTarget(t *testing.T) *target {
	t.Helper()
	pool, url := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	t.Setenv("REGISTRY_DATA_DIR", t.TempDir())
	tg := &target{srv: newTestServer(t, pool)}
	for _, n := range []auth.NewUser{
		{Email: "laia@example.org", Name: "Laia", Roles: []string{auth.RoleAuthor}},
		{Email: "nuria@example.org", Name: "Núria", Roles: []string{auth.RoleReviewer}},
		{Email: "jordi@example.org", Name: "Jordi", Roles: []string{auth.RoleExpert}},
	} {
		n.Password = "a long enough password"
		u, err := tg.srv.Auth().CreateUser(context.Background(), n, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		switch n.Roles[0] {
		case auth.RoleAuthor:
			tg.author = algorithms.Actor{UserID: u.ID, Email: u.Email}
		case auth.RoleReviewer:
			tg.reviewer = review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
		case auth.RoleExpert:
			tg.expert = review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
		}
	}
	return tg
}

type createdDraft struct{ slug, id string }

var createdLine = regexp.MustCompile(`(?m)^created draft (\S+)  /workspace/(\S+)  \(`)

func parseCreated(out string) []createdDraft {
	var drafts []createdDraft
	for _, m := range createdLine.FindAllStringSubmatch(out, -1) {
		drafts = append(drafts, createdDraft{m[1], m[2]})
	}
	return drafts
}

// draft returns the only revision of an imported entry, checking that it is a draft owned
// by the target's author.
func (tg *target) draft(t *testing.T, id string) *algorithms.Revision {
	t.Helper()
	ctx := context.Background()
	alg, rev, err := tg.srv.Algorithms().WorkingRevision(ctx, id, tg.author.UserID)
	if err != nil {
		t.Fatalf("entry %s: %v", id, err)
	}
	if rev.Number != 1 || rev.State != algorithms.StateDraft || len(alg.Owners) != 1 {
		t.Errorf("%s: revision %d in state %s with %d owners, want draft 1 of one owner", alg.Slug, rev.Number, rev.State, len(alg.Owners))
	}
	return rev
}

// publish takes an imported draft through the review: submitted by its author, approved as
// its route requires (two approvals, the second by the external expert, when it needs two).
func (tg *target) publish(t *testing.T, rev *algorithms.Revision) {
	t.Helper()
	ctx := context.Background()
	wf := tg.srv.Review()
	if err := wf.Submit(ctx, rev.ID, review.Actor{UserID: tg.author.UserID, Email: tg.author.Email}); err != nil {
		t.Fatalf("submit %s: %v", rev.Sheet.Name[rev.Sheet.Lang], err)
	}
	reviewers := []review.Actor{tg.reviewer}
	if rev.Route().Approvals > 1 {
		reviewers = append(reviewers, tg.expert)
	}
	for _, r := range reviewers {
		if _, err := wf.Decide(ctx, rev.ID, review.Decision{Action: review.Approve, Rationale: "Complete.",
			AcceptException: rev.Assessment.ExceptionClaimed}, r); err != nil {
			t.Fatalf("approve %s: %v", rev.Sheet.Name[rev.Sheet.Lang], err)
		}
	}
}

// withoutSystemFields decodes a native JSON export and removes what the system sets.
func withoutSystemFields(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var records []map[string]any
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		for _, k := range []string{"uuid", "revision", "publication_date", "last_change_date", "governance"} {
			delete(r, k)
		}
	}
	return records
}

// TestImportDemo exports the demo seeded through the workflow and imports it into fresh
// registers: the native export comes back, once published again, with the same content;
// the Eurocities export comes back as drafts whose projection is the exported one.
func TestImportDemo(t *testing.T) {
	ctx := context.Background()
	pool, url := pgtest.NewDatabase(t)
	if err := seedDemo(ctx, environment{stdout: io.Discard, stderr: io.Discard}, newTestServer(t, pool)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("REGISTRY_DATA_DIR", t.TempDir())
	dir := t.TempDir()
	native, eurocities := filepath.Join(dir, "export.json"), filepath.Join(dir, "eurocities.json")
	for file, format := range map[string]string{native: "json", eurocities: "eurocities"} {
		if _, err := run(t, "", "export", "--format", format, "--out", file); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("native round trip", func(t *testing.T) {
		exported, err := os.ReadFile(native)
		if err != nil {
			t.Fatal(err)
		}
		want := withoutSystemFields(t, exported)
		tg := newTarget(t)
		out, err := run(t, "", "import", native) // the only author owns the drafts
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		created := parseCreated(out)
		if len(created) != len(want) || len(want) < 10 {
			t.Fatalf("%d drafts created from %d records:\n%s", len(created), len(want), out)
		}
		if !strings.Contains(out, "  not imported: impact_level, risk_category: computed from the risk assessment\n") ||
			!strings.Contains(out, "  not imported: last_change_date, latest, publication_date, retired, revision, uuid: set by the system\n") {
			t.Errorf("the report does not list the system's fields:\n%s", out)
		}
		for i, c := range created {
			if c.slug != want[i]["slug"] {
				t.Errorf("draft %d has slug %q, want %q (kept)", i, c.slug, want[i]["slug"])
			}
			tg.publish(t, tg.draft(t, c.id))
		}
		again, err := run(t, "", "export", "--format", "json")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, withoutSystemFields(t, []byte(again))); diff != "" {
			t.Errorf("export after import and publication (-want +got):\n%s", diff)
		}
	})

	t.Run("eurocities", func(t *testing.T) {
		exported, err := os.ReadFile(eurocities)
		if err != nil {
			t.Fatal(err)
		}
		var want []opendata.EurocitiesEntry
		if err := json.Unmarshal(exported, &want); err != nil {
			t.Fatal(err)
		}
		tg := newTarget(t)
		out, err := run(t, "", "import", eurocities, "--owner", tg.author.Email)
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		created := parseCreated(out)
		if len(created) != len(want) {
			t.Fatalf("%d drafts created from %d objects:\n%s", len(created), len(want), out)
		}
		for _, line := range []string{
			"  not imported: last_change_date, publication_date, standard_version, uuid: set by the system\n",
			"  not imported: risk_category: computed from the risk assessment\n",
		} {
			if strings.Count(out, line) != len(want) {
				t.Errorf("the report of each draft should hold %q:\n%s", line, out)
			}
		}
		for i, c := range created {
			rev := tg.draft(t, c.id)
			if rev.Risk.Checklist != nil || rev.Risk.Impact != nil {
				t.Errorf("%s: risk answers %+v from a file that has none", c.slug, rev.Risk)
			}
			// The projection of the draft, with what the system would set taken from the
			// export, is the exported object: every text in its original language came back.
			e := want[i]
			rec := algorithms.Record{UUID: e.UUID, FactSheet: rev.Sheet, RiskCategory: e.RiskCategory,
				PublicationDate: e.PublicationDate, LastChangeDate: e.LastChangeDate}
			if diff := cmp.Diff(e, *opendata.Project(&rec)); diff != "" {
				t.Errorf("%s: projection of the imported draft (-exported +imported):\n%s", c.slug, diff)
			}
		}
	})
}

// TestImportModelCard imports a Hugging Face model card as one draft with no risk answers,
// and reports what it left out.
func TestImportModelCard(t *testing.T) {
	tg := newTarget(t)
	out, err := run(t, "", "import", filepath.Join("..", "..", "internal", "opendata", "testdata", "model-card-catalan-classifier.md"))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	created := parseCreated(out)
	if len(created) != 1 || created[0].slug != "roberta-base-ca-v2-iris-peticions" {
		t.Fatalf("created %v:\n%s", created, out)
	}
	rev := tg.draft(t, created[0].id)
	if rev.Sheet.Name["en"] != "roberta-base-ca-v2-iris-peticions" || rev.Sheet.Performance.Empty() || len(rev.Sheet.DataSources) != 2 {
		t.Errorf("draft: %+v", rev.Sheet)
	}
	for _, line := range []string{
		"a model card (Markdown), owned by laia@example.org\n",
		"  not imported: co2_eq_emissions, widget: unknown model card metadata: no fact-sheet field for it\n",
		"  not imported: ### Model Sources [optional], ## Environmental Impact, ## Citation [optional], ## Model Card Contact: no fact-sheet field for this section\n",
		"  check: pipeline_tag: text-classification: algorithm_type set to self-learning;",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

// TestImportRefused checks the command's refusals: a file that is not an import file, a
// file malformed after good entries (nothing at all is created: every entry is read and
// checked before the first is created), and owners that cannot own the drafts.
func TestImportRefused(t *testing.T) {
	tg := newTarget(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := func(name string) string {
		return `{"slug": "` + algorithms.Slugify(name) + `", "lang": "ca", "name": {"ca": "` + name + `"}}`
	}
	goodFile := write("good.ndjson", good("Primer")+"\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not an import file", []string{"import", write("photo.png", "\x89PNG\r\n\x1a\n\x00\x00")}, "not an import file"},
		{"malformed halfway", []string{"import", write("broken.json", "["+good("Primer")+",\n"+good("Segon")+",\n{\"slug\": ]")}, "not valid JSON (line 3)"},
		{"invalid entry halfway", []string{"import", write("nl.ndjson", good("Primer")+"\n"+good("Segon")+"\n"+`{"slug": "x", "lang": "nl", "name": {"nl": "Derde"}}`+"\n")}, `line 3: lang "nl"`},
		{"no such file", []string{"import", filepath.Join(dir, "missing.json")}, "no such file"},
		{"no file", []string{"import"}, "usage: registry import FILE"},
		{"two files", []string{"import", goodFile, goodFile}, "one file at a time"},
		{"unknown owner", []string{"import", goodFile, "--owner", "nobody@example.org"}, "--owner nobody@example.org: no such account"},
		{"owner not an author", []string{"import", "--owner", "nuria@example.org", goodFile}, "the account is not an author"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, "", tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q\n%s", err, tt.want, out)
			}
		})
	}
	entries, err := tg.srv.Algorithms().All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("refused imports created %d entries", len(entries))
	}

	if _, err := tg.srv.Auth().CreateUser(context.Background(), auth.NewUser{Email: "marc@example.org", Name: "Marc",
		Roles: []string{auth.RoleAuthor}, Password: "a long enough password"}, auth.Actor{Email: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "import", goodFile); err == nil || !strings.Contains(err.Error(), "choose one with --owner (laia@example.org, marc@example.org)") {
		t.Errorf("two authors and no --owner: err = %v", err)
	}
	out, err := run(t, "", "import", "--owner", "marc@example.org", goodFile)
	if err != nil || len(parseCreated(out)) != 1 {
		t.Fatalf("import --owner marc: %v\n%s", err, out)
	}
	if _, err := run(t, "", "import", goodFile, "--owner", "marc@example.org"); err != nil {
		t.Fatal(err)
	}
	entries, err = tg.srv.Algorithms().All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slugs := []string{}
	for _, e := range entries {
		slugs = append(slugs, e.Slug)
	}
	if len(slugs) != 2 || !strings.Contains(strings.Join(slugs, " "), "primer-2") {
		t.Errorf("after importing one file twice the slugs are %v, want primer and primer-2", slugs)
	}
}
