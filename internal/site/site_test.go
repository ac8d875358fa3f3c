package site

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/demo"
	"github.com/civictech/registry/internal/i18n"
	"github.com/civictech/registry/internal/pgtest"
	"github.com/civictech/registry/internal/review"
	"github.com/civictech/registry/internal/server"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// origin is the public address of the register under test.
const origin = "https://algorismes.example.cat"

// Markers are words that appear only in revisions the public must not see.
const (
	draftMarker  = "Quiscalmarcador"
	reviewMarker = "Ornitorincmarcador"
)

// fixture is a register seeded with the demo through the workflow, 15 synthetic entries
// (so that the index has two pages), a draft and a revision in review carrying the markers,
// and an entry the data office withdrew.
type fixture struct {
	handler   http.Handler // a register whose public address is origin
	published []*algorithms.Record
	withdrawn *algorithms.Algorithm
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool, _ := pgtest.NewDatabase(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(server.Config{BaseURL: origin, SessionKey: bytes.Repeat([]byte("k"), 64), SecretsKey: bytes.Repeat([]byte("s"), 32), PublicAPIRateLimit: -1}, pool, log)
	if err != nil {
		t.Fatal(err)
	}
	staff, admin := createStaff(t, srv)
	if _, err := demo.Seed(ctx, srv.Algorithms(), srv.Review(), staff); err != nil {
		t.Fatal(err)
	}
	author := staff.Authors[demo.Author]
	store := srv.Algorithms()
	if err := store.SeedSynthetic(ctx, 15, author); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Create(ctx, author, algorithms.FactSheet{Lang: "ca",
		Name: algorithms.Text{"ca": "Esborrany " + draftMarker}}); err != nil {
		t.Fatal(err)
	}
	entries, err := demo.Entries()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{handler: srv.Handler()}
	var mine []string // published demo entries of demo.Author
	for _, e := range entries {
		if e.Owner == demo.Author && e.State == demo.StatePublished {
			mine = append(mine, e.Slug)
		}
	}
	// A new revision in review, whose goal only the committee may read yet.
	alg, err := store.BySlug(ctx, mine[0])
	if err != nil {
		t.Fatal(err)
	}
	rev, err := store.NewRevision(ctx, alg.ID, author)
	if err != nil {
		t.Fatal(err)
	}
	sheet := rev.Sheet
	sheet.Goal = algorithms.Text{"ca": "Objectiu nou " + reviewMarker, "es": "Objetivo nuevo " + reviewMarker, "en": "New goal " + reviewMarker}
	sheet.RevisionNote = algorithms.Text{"ca": "Canvi " + reviewMarker}
	if rev, err = store.SaveSheet(ctx, rev.ID, rev.Version, sheet, author); err != nil {
		t.Fatal(err)
	}
	if err := srv.Review().Submit(ctx, rev.ID, review.Actor{UserID: author.UserID, Email: author.Email}); err != nil {
		t.Fatal(err)
	}
	if f.withdrawn, err = store.BySlug(ctx, mine[1]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Review().Unpublish(ctx, f.withdrawn.ID, "Withdrawn while the data protection officer checks it.", admin); err != nil {
		t.Fatal(err)
	}
	err = store.EachPublished(ctx, algorithms.EachOptions{AllVersions: true}, func(r *algorithms.Record) error {
		f.published = append(f.published, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// createStaff creates the demo's accounts and an administrator.
func createStaff(t *testing.T, srv *server.Server) (demo.Staff, review.Actor) {
	t.Helper()
	staff := demo.Staff{Authors: map[string]algorithms.Actor{}}
	var admin review.Actor
	for _, n := range []auth.NewUser{
		{Email: demo.Author, Name: "Laia", Roles: []string{auth.RoleAuthor}},
		{Email: demo.Author2, Name: "Marc", Roles: []string{auth.RoleAuthor}},
		{Email: "reviewer@example.org", Name: "Núria", Roles: []string{auth.RoleReviewer}},
		{Email: "expert@example.org", Name: "Jordi", Roles: []string{auth.RoleExpert}},
		{Email: "admin@example.org", Name: "Carme", Roles: []string{auth.RoleAdmin}},
	} {
		n.Password = auth.RandomPassword()
		u, err := srv.Auth().CreateUser(context.Background(), n, auth.Actor{Email: "test"})
		if err != nil {
			t.Fatal(err)
		}
		actor := review.Actor{UserID: u.ID, Email: u.Email, Roles: u.Roles}
		switch n.Roles[0] {
		case auth.RoleAuthor:
			staff.Authors[u.Email] = algorithms.Actor{UserID: u.ID, Email: u.Email}
		case auth.RoleReviewer:
			staff.Reviewer = actor
		case auth.RoleExpert:
			staff.Expert = actor
		default:
			admin = actor
		}
	}
	return staff, admin
}

func TestBuild(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "site")

	start := time.Now()
	// The same register first as a site on its own: its address must not leak into it.
	stats, err := Build(ctx, dir, Options{Handler: f.handler, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("offline site: %d pages, %d files, %d bytes, %d links removed, in %s", stats.Pages, stats.Files, stats.Bytes,
		stats.Removed, time.Since(start))
	if len(stats.Missing) > 0 {
		t.Errorf("pages link to addresses that are not found: %v", stats.Missing)
	}
	if stats.Removed == 0 {
		t.Error("no link was removed, yet search, filters and the feedback form need a live register")
	}
	checkLinks(t, dir, "")
	checkEntries(t, dir, f)
	checkPrivate(t, dir, f)
	checkExports(t, dir, len(f.latest()))
	checkFeeds(t, dir, "")
	for _, absent := range []string{"catalog.jsonld", "catalog.ttl", "api/openapi.json"} {
		if exists(dir, absent) {
			t.Errorf("%s written without a live address: its links would point nowhere", absent)
		}
	}
	checkFiles(t, dir)

	// A second build, for a site beside a live register, replaces the first one.
	write(t, dir, "stale/index.html", "left over from an older site")
	write(t, dir, ".git/HEAD", "ref: refs/heads/pages\n")
	live := origin
	start = time.Now()
	if _, err := Build(ctx, dir, Options{Handler: f.handler, Origin: origin, Live: live}); err != nil {
		t.Fatal(err)
	}
	t.Logf("site beside the live register, from warm caches, in %s", time.Since(start))
	if exists(dir, "stale/index.html") {
		t.Error("a file of the old site survived the new build")
	}
	if !exists(dir, ".git/HEAD") {
		t.Error("the new build removed a hidden file it did not write")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, buildPrefix+"*")); len(m) > 0 {
		t.Errorf("build directories left behind: %v", m)
	}
	checkLinks(t, dir, live)
	checkEntries(t, dir, f)
	checkPrivate(t, dir, f)
	checkFeeds(t, dir, live)
	home := read(t, dir, "ca/index.html")
	for _, want := range []string{`action="` + live + `/ca/algorithms"`, `href="` + live + `/login"`, `href="algorithms/index.html"`} {
		if !strings.Contains(home, want) {
			t.Errorf("ca/index.html lacks %s", want)
		}
	}
	var catalog map[string]any
	if err := json.Unmarshal([]byte(read(t, dir, "catalog.jsonld")), &catalog); err != nil {
		t.Errorf("catalog.jsonld: %v", err)
	}
}

// TestBuildRefusesForeignDirectory: a directory with files and no earlier site is left alone.
func TestBuildRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "notes.txt", "mine")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Errorf("fetched %s", r.URL) })
	if _, err := Build(context.Background(), dir, Options{Handler: h, Origin: "http://registry.test"}); err == nil ||
		!strings.Contains(err.Error(), "no site written by registry site") {
		t.Fatalf("Build into a foreign directory: %v", err)
	}
	if read(t, dir, "notes.txt") != "mine" {
		t.Error("notes.txt changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only notes.txt", len(entries))
	}
}

func (f *fixture) latest() []*algorithms.Record {
	var out []*algorithms.Record
	for _, r := range f.published {
		if r.Latest {
			out = append(out, r)
		}
	}
	return out
}

// linkAttr finds addresses the way a reader of the HTML would, independently of the scanner
// the site is built with: html/template always writes attributes in double quotes.
var linkAttr = regexp.MustCompile(`\s(href|src|action)="([^"]*)"`)

// checkLinks: no address on the server's root, every relative address names a file of the
// site, and every fragment an element of its page; absolute ones go to the live register
// or to other sites, never to the handler's own made-up origin.
func checkLinks(t *testing.T, dir, live string) {
	t.Helper()
	files := 0
	walk(t, dir, ".html", func(file, doc string) {
		files++
		if live == "" && strings.Contains(doc, "<form") {
			t.Errorf("%s: a form, with no live register to answer it", file)
		}
		for _, m := range linkAttr.FindAllStringSubmatch(doc, -1) {
			ref := html.UnescapeString(m[2])
			u, err := url.Parse(ref)
			switch {
			case err != nil:
				t.Errorf("%s: bad address %q", file, ref)
			case strings.HasPrefix(ref, "/"):
				t.Errorf("%s: %s=%q is on the server's root", file, m[1], ref)
			case live == "" && strings.HasPrefix(ref, origin):
				t.Errorf("%s: %q points to a live register that was not given", file, ref)
			case u.Scheme != "":
			default:
				target := file
				if u.Path != "" {
					target = path.Join(path.Dir(file), u.Path)
				}
				body, err := os.ReadFile(filepath.Join(dir, target))
				if err != nil {
					t.Errorf("%s: %s=%q: %v", file, m[1], ref, err)
				} else if u.Fragment != "" && !strings.Contains(string(body), `id="`+u.Fragment+`"`) {
					t.Errorf("%s: %q: no element with that id in %s", file, ref, target)
				}
			}
		}
	})
	if files < 100 {
		t.Errorf("only %d pages", files)
	}
}

// checkFiles: every file readable by a web server running as another user, no temporary
// file left, and a root page that sends visitors to Catalan without a script.
func checkFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil && (info.Mode().Perm()&0o044 != 0o044 || strings.HasPrefix(d.Name(), ".part-")) {
			t.Errorf("%s: mode %s: unreadable by others, or a leftover", p, info.Mode())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	root := read(t, dir, "index.html")
	if !strings.Contains(root, `<meta http-equiv="refresh" content="0; url=ca/index.html">`) || strings.Contains(root, "<script") {
		t.Errorf("the root page does not send visitors to ca/index.html without a script:\n%s", root)
	}
}

// checkEntries: every published entry in every language, each of its published versions
// and their diffs, its Markdown and its feed; the index's second page; the withdrawn
// entry's tombstone wherever something links to it, and nowhere in the index.
func checkEntries(t *testing.T, dir string, f *fixture) {
	t.Helper()
	for _, l := range i18n.Langs {
		base := string(l) + "/algorithms/"
		for _, r := range f.published {
			files := []string{base + r.Slug + "/versions/" + itoa(r.Revision) + "/index.html"}
			if r.Latest {
				files = append(files, base+r.Slug+"/index.html", base+r.Slug+".md", base+r.Slug+"/versions/index.html",
					base+r.Slug+"/feed.atom", "api/v1/algorithms/"+r.Slug+".json")
			}
			if r.Revision > 1 {
				files = append(files, base+r.Slug+"/diff/"+itoa(r.Revision-1)+".."+itoa(r.Revision)+"/index.html")
			}
			for _, file := range files {
				if !exists(dir, file) {
					t.Errorf("missing %s", file)
				}
			}
			if l == i18n.Lang(r.Lang) && r.Latest && exists(dir, base+r.Slug+"/index.html") &&
				!strings.Contains(read(t, dir, base+r.Slug+"/index.html"), html.EscapeString(r.Name[r.Lang])) {
				t.Errorf("%s/index.html does not name %q", base+r.Slug, r.Name[r.Lang])
			}
		}
		index := read(t, dir, base+"index.html") + read(t, dir, base+"page-2.html")
		if !strings.Contains(read(t, dir, base+"index.html"), `href="page-2.html"`) {
			t.Errorf("%sindex.html does not link to its second page", base)
		}
		for _, r := range f.latest() {
			if !strings.Contains(index, `href="`+r.Slug+`/index.html"`) {
				t.Errorf("the index in %s does not list %s", l, r.Slug)
			}
		}
		if strings.Contains(index, f.withdrawn.Slug) {
			t.Errorf("the index in %s lists the withdrawn entry", l)
		}
		if page := base + f.withdrawn.Slug + "/index.html"; exists(dir, page) && !strings.Contains(read(t, dir, page), "data protection officer") {
			t.Errorf("%s is not the tombstone", page)
		}
	}
}

// checkPrivate: nothing of a draft or of a revision in review, anywhere.
func checkPrivate(t *testing.T, dir string, f *fixture) {
	t.Helper()
	walk(t, dir, "", func(file, doc string) {
		for _, marker := range []string{draftMarker, reviewMarker} {
			if strings.Contains(doc, marker) {
				t.Errorf("%s shows %s, from a revision that is not published", file, marker)
			}
		}
	})
}

// checkExports: the exports are there, complete, and parse.
func checkExports(t *testing.T, dir string, entries int) {
	t.Helper()
	var records []map[string]any
	if err := json.Unmarshal([]byte(read(t, dir, "api/v1/export.json")), &records); err != nil || len(records) != entries {
		t.Errorf("export.json: %d records, %v; want %d", len(records), err, entries)
	}
	lines := strings.Split(strings.TrimSpace(read(t, dir, "api/v1/export.ndjson")), "\n")
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("export.ndjson line %d is not JSON", i+1)
		}
	}
	rows, err := csv.NewReader(strings.NewReader(read(t, dir, "api/v1/export.csv"))).ReadAll()
	if err != nil || len(rows) != entries+1 || len(lines) != entries {
		t.Errorf("export.csv: %d rows, %v; export.ndjson: %d lines; want %d entries", len(rows), err, len(lines), entries)
	}
	for _, file := range []string{"api/v1/export/eurocities.json", "api/v1/datapackage.json", "api/v1/schema/eurocities.json"} {
		if !json.Valid([]byte(read(t, dir, file))) {
			t.Errorf("%s is not JSON", file)
		}
	}
	var pkg struct {
		Resources []struct{ Path string } `json:"resources"`
	}
	_ = json.Unmarshal([]byte(read(t, dir, "api/v1/datapackage.json")), &pkg)
	for _, r := range pkg.Resources {
		if !exists(dir, "api/v1/"+r.Path) {
			t.Errorf("datapackage.json names %s, which is not in the site", r.Path)
		}
	}
	for _, file := range []string{"static/site.css", "static/favicon.svg", "log/checkpoint.txt", "log/key.txt"} {
		if !exists(dir, file) {
			t.Errorf("missing %s", file)
		}
	}
}

// checkFeeds: every feed parses as Atom; without a live register its links are relative
// and name files of the site, with one they are absolute on it.
func checkFeeds(t *testing.T, dir, live string) {
	t.Helper()
	feeds := 0
	walk(t, dir, ".atom", func(file, doc string) {
		feeds++
		var feed struct {
			ID    string `xml:"id"`
			Links []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Entries []struct {
				Links []struct {
					Href string `xml:"href,attr"`
				} `xml:"link"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(doc), &feed); err != nil {
			t.Errorf("%s: %v", file, err)
			return
		}
		hrefs := []string{}
		for _, l := range feed.Links {
			hrefs = append(hrefs, l.Href)
		}
		for _, e := range feed.Entries {
			for _, l := range e.Links {
				hrefs = append(hrefs, l.Href)
			}
		}
		for _, h := range hrefs {
			switch {
			case live != "" && !strings.HasPrefix(h, live+"/"):
				t.Errorf("%s: link %q is not on the live register", file, h)
			case live == "" && !exists(dir, path.Join(path.Dir(file), h)):
				t.Errorf("%s: link %q names no file", file, h)
			}
		}
	})
	if feeds < 4 {
		t.Errorf("%d feeds", feeds)
	}
}

func walk(t *testing.T, dir, ext string, fn func(file, doc string)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ext) {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, ".git") {
			return nil
		}
		b, err := os.ReadFile(p)
		fn(filepath.ToSlash(rel), string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func exists(dir, file string) bool {
	info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(file)))
	return err == nil && info.Mode().IsRegular()
}

func read(t *testing.T, dir, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Error(err)
	}
	return string(b)
}

func write(t *testing.T, dir, file, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
