package opendata_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/algorithms/risk"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/opendata"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/review"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// marker is a word that appears only in text the public must never see: drafts, revisions
// under review and an entry an administrator unpublished.
const marker = "Xylofonquartzmarker"

// register is a database holding the demo entries, driven through the workflow, plus text
// that must stay out of every export.
type register struct {
	store *algorithms.Store
	// published maps each slug expected in the export to its number of published revisions.
	published map[string]int
	// unpublishedID is the entry an administrator took down.
	unpublishedID string
}

func newRegister(t *testing.T) *register {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	defs, err := risk.Load()
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(pool, nil, false)
	store := algorithms.NewStore(pool, defs)
	wf := review.NewService(pool, store, svc.Users, "http://registry.test")
	staff, admin := seedDemo(t, svc, store, wf)
	reg := &register{store: store, published: expectedPublished(t)}
	hidePublicText(t, reg, wf, staff, admin)
	// The marker is really there, in three revisions the public must not see.
	var marked int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM revisions WHERE fact_sheet::text LIKE '%' || $1 || '%'`,
		marker).Scan(&marked); err != nil || marked != 3 {
		t.Fatalf("%d revisions hold the marker (%v), want 3", marked, err)
	}
	return reg
}

// seedDemo creates the demo's accounts and an administrator, and drives every demo entry
// through the workflow.
func seedDemo(t *testing.T, svc *auth.Service, store *algorithms.Store, wf *review.Service) (demo.Staff, review.Actor) {
	t.Helper()
	ctx := context.Background()
	people := map[string]review.Actor{}
	for email, role := range map[string]string{demo.Author: auth.RoleAuthor, demo.Author2: auth.RoleAuthor,
		"reviewer@example.org": auth.RoleReviewer, "expert@example.org": auth.RoleExpert, "admin@example.org": auth.RoleAdmin} {
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: email, Name: email, Roles: []string{role},
			Password: "a long enough password"}, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		people[email] = review.Actor{UserID: u.ID, Email: email, Roles: u.Roles}
	}
	staff := demo.Staff{Authors: map[string]algorithms.Actor{}, Reviewer: people["reviewer@example.org"],
		Expert: people["expert@example.org"]}
	for _, email := range []string{demo.Author, demo.Author2} {
		staff.Authors[email] = algorithms.Actor{UserID: people[email].UserID, Email: email}
	}
	if _, err := demo.Seed(ctx, store, wf, staff); err != nil {
		t.Fatal(err)
	}
	return staff, people["admin@example.org"]
}

// hidePublicText adds the marker where the public must not see it: a new draft revision of
// a published entry, a revision in review, a new entry that is only a draft; and has an
// administrator unpublish an entry.
func hidePublicText(t *testing.T, reg *register, wf *review.Service, staff demo.Staff, admin review.Actor) {
	t.Helper()
	ctx, store := context.Background(), reg.store
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	ownerOf := map[string]algorithms.Actor{}
	for _, e := range entries {
		ownerOf[e.Slug] = staff.Authors[e.Owner]
	}
	bySlug := func(slug string) *algorithms.Algorithm {
		alg, err := store.BySlug(ctx, slug)
		if err != nil {
			t.Fatalf("%s: %v", slug, err)
		}
		return alg
	}
	for i, slug := range []string{"deteccio-pobresa-energetica", "risc-caiguda-arbrat"} {
		author := ownerOf[slug]
		rev, err := store.NewRevision(ctx, bySlug(slug).ID, author)
		if err != nil {
			t.Fatalf("new revision of %s: %v", slug, err)
		}
		if rev, err = store.SaveSheet(ctx, rev.ID, rev.Version, markSheet(rev.Sheet), author); err != nil {
			t.Fatalf("save %s: %v", slug, err)
		}
		if i == 1 {
			if err := wf.Submit(ctx, rev.ID, review.Actor{UserID: author.UserID, Email: author.Email}); err != nil {
				t.Fatalf("submit %s: %v", slug, err)
			}
		}
	}
	rev, err := store.LatestPublished(ctx, bySlug("mapes-predictius-soroll").ID)
	if err != nil {
		t.Fatalf("latest published: %v", err)
	}
	if _, _, err := store.Create(ctx, staff.Authors[demo.Author], markSheet(rev.Sheet)); err != nil {
		t.Fatal(err)
	}
	gone := bySlug("assistent-virtual-010")
	if err := wf.Unpublish(ctx, gone.ID, "Published by mistake.", admin); err != nil {
		t.Fatal(err)
	}
	delete(reg.published, gone.Slug)
	reg.unpublishedID = gone.ID
}

// markSheet returns a copy of sheet with the marker in its name and description.
func markSheet(s algorithms.FactSheet) algorithms.FactSheet {
	b, _ := json.Marshal(s)
	var out algorithms.FactSheet
	_ = json.Unmarshal(b, &out)
	out.Name[out.Lang] += " " + marker
	out.Description[out.Lang] += "\n\n" + marker
	return out
}

// expectedPublished counts the published revisions the demo leaves for each entry: every
// revision of a published or retired entry; for the others, all but the last one.
func expectedPublished(t *testing.T) map[string]int {
	t.Helper()
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		n := 1 + len(e.Updates)
		if !slices.Contains([]string{demo.StatePublished, demo.StateRetired}, e.State) {
			n--
		}
		if n > 0 {
			out[e.Slug] = n
		}
	}
	return out
}

// export runs the export in format f and returns its bytes.
func (reg *register) export(t *testing.T, f opendata.Format, all bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := opendata.Export(context.Background(), reg.store, &buf, f, opendata.Options{AllVersions: all}); err != nil {
		t.Fatalf("export %s: %v", f, err)
	}
	return buf.Bytes()
}

// entries returns the expected number of records: entries, or published revisions.
func (reg *register) entries(all bool) int {
	n := 0
	for _, revs := range reg.published {
		if all {
			n += revs
		} else {
			n++
		}
	}
	return n
}
