package server

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civictech/registry/internal/algorithms"
	"github.com/civictech/registry/internal/auth"
	"github.com/civictech/registry/internal/review"
)

// The Atom document as a reader decodes it: every element in the Atom namespace, and
// single elements as lists, so that a missing or repeated one is seen.
const atomNS = "http://www.w3.org/2005/Atom"

type testFeed struct {
	XMLName xml.Name      `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string        `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      []string      `xml:"http://www.w3.org/2005/Atom id"`
	Title   []string      `xml:"http://www.w3.org/2005/Atom title"`
	Updated []string      `xml:"http://www.w3.org/2005/Atom updated"`
	Links   []testLink    `xml:"http://www.w3.org/2005/Atom link"`
	Author  []testAuthor  `xml:"http://www.w3.org/2005/Atom author"`
	Entries []testEntries `xml:"http://www.w3.org/2005/Atom entry"`
}

type testLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
	Href string `xml:"href,attr"`
}

type testAuthor struct {
	Name []string `xml:"http://www.w3.org/2005/Atom name"`
}

type testEntries struct {
	ID       []string   `xml:"http://www.w3.org/2005/Atom id"`
	Title    []string   `xml:"http://www.w3.org/2005/Atom title"`
	Updated  []string   `xml:"http://www.w3.org/2005/Atom updated"`
	Links    []testLink `xml:"http://www.w3.org/2005/Atom link"`
	Summary  []string   `xml:"http://www.w3.org/2005/Atom summary"`
	Category []struct {
		Term string `xml:"term,attr"`
	} `xml:"http://www.w3.org/2005/Atom category"`
}

// feedEntry is a checked entry: where it links to and what it says.
type feedEntry struct {
	ID, Title, Summary, Kind, Slug string
	Number                         int
	Updated                        time.Time
}

var versionPath = regexp.MustCompile(`^/(ca|es|en)/algorithms/([a-z0-9-]+)/versions/([0-9]+)$`)

// getFeed fetches and decodes a feed, checking everything RFC 4287 requires of it and of
// each entry, the absolute links, the dates and the newest-first order.
func getFeed(t *testing.T, c *client, path, lang string) (*testFeed, []feedEntry, *response) {
	t.Helper()
	res := c.get(path)
	expectStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	var feed testFeed
	if err := xml.Unmarshal([]byte(res.body), &feed); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	if feed.XMLName.Space != atomNS || feed.Lang != lang {
		t.Fatalf("%s: root %v, xml:lang %q", path, feed.XMLName, feed.Lang)
	}
	if len(feed.ID) != 1 || len(feed.Title) != 1 || len(feed.Updated) != 1 || feed.ID[0] == "" || feed.Title[0] == "" {
		t.Fatalf("%s: feed id %q, title %q, updated %q: want one each", path, feed.ID, feed.Title, feed.Updated)
	}
	feedUpdated := rfc3339Time(t, feed.Updated[0])
	if len(feed.Author) != 1 || len(feed.Author[0].Name) != 1 || feed.Author[0].Name[0] == "" {
		t.Fatalf("%s: feed author %+v", path, feed.Author)
	}
	self := false
	for _, l := range feed.Links {
		absolute(t, l.Href)
		if l.Rel == "self" && l.Href == "http://127.0.0.1"+path && l.Type == "application/atom+xml" {
			self = true
		}
	}
	if !self {
		t.Fatalf("%s: no rel=self link to itself in %+v", path, feed.Links)
	}
	var out []feedEntry
	for i, e := range feed.Entries {
		if len(e.ID) != 1 || len(e.Title) != 1 || len(e.Updated) != 1 || len(e.Summary) != 1 || len(e.Category) != 1 {
			t.Fatalf("%s entry %d: id %q title %q updated %q summary %d category %d", path, i, e.ID, e.Title, e.Updated, len(e.Summary), len(e.Category))
		}
		if !strings.HasPrefix(e.ID[0], "urn:uuid:") {
			t.Errorf("%s entry %d: id %q", path, i, e.ID[0])
		}
		fe := feedEntry{ID: e.ID[0], Title: e.Title[0], Summary: e.Summary[0], Kind: e.Category[0].Term,
			Updated: rfc3339Time(t, e.Updated[0])}
		for _, l := range e.Links {
			if l.Rel != "alternate" {
				continue
			}
			m := versionPath.FindStringSubmatch(absolute(t, l.Href).Path)
			if m == nil || m[1] != lang {
				t.Fatalf("%s entry %d: alternate link %q", path, i, l.Href)
			}
			fe.Slug, fe.Number = m[2], atoi(t, m[3])
		}
		if fe.Slug == "" {
			t.Fatalf("%s entry %d: no alternate link", path, i)
		}
		if i > 0 && fe.Updated.After(out[i-1].Updated) {
			t.Errorf("%s: entry %d (%s) is newer than the one before it", path, i, fe.Updated)
		}
		out = append(out, fe)
	}
	if len(out) > 0 && !feedUpdated.Equal(out[0].Updated) {
		t.Errorf("%s: feed updated %s, newest entry %s", path, feedUpdated, out[0].Updated)
	}
	return &feed, out, res
}

func rfc3339Time(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("date %q is not RFC 3339: %v", s, err)
	}
	return v
}

func absolute(t *testing.T, href string) *url.URL {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil || !u.IsAbs() || u.Host == "" {
		t.Fatalf("link %q is not absolute", href)
	}
	return u
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// feedText is every text of a decoded feed, to look for what must not be there.
func feedText(feed *testFeed) string {
	var b strings.Builder
	b.WriteString(strings.Join(feed.Title, " "))
	for _, e := range feed.Entries {
		b.WriteString(strings.Join(e.Title, " ") + strings.Join(e.Summary, " "))
		for _, l := range e.Links {
			b.WriteString(l.Href)
		}
	}
	return b.String()
}

// testRegisterFeed checks that the register feed lists every publication with its kind.
func testRegisterFeed(t *testing.T, sc *histScene) {
	feed, entries, res := getFeed(t, sc.c, "/en/feed.atom", "en")
	expectAbsent(t, "the register feed", res.body, sc.hidden...)
	expectAbsent(t, "the register feed, decoded", feedText(feed), sc.hidden...)
	// The publications, newest first, as the store has them.
	var published []*algorithms.Record
	err := sc.f.app.srv.Algorithms().EachPublished(context.Background(), algorithms.EachOptions{AllVersions: true},
		func(rec *algorithms.Record) error { published = append(published, rec); return nil })
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(published, func(a, b *algorithms.Record) int { return b.PublishedAt.Compare(a.PublishedAt) })
	var want, got []string
	for _, rec := range published[:min(len(published), 50)] {
		want = append(want, rec.Slug+"/"+strconv.Itoa(rec.Revision))
	}
	for _, e := range entries {
		got = append(got, e.Slug+"/"+strconv.Itoa(e.Number))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the feed lists %v, want %v", got, want)
	}
	kinds := map[string]string{}
	ids := map[string]bool{}
	for _, e := range entries {
		kinds[e.Slug+"/"+strconv.Itoa(e.Number)] = e.Kind
		if ids[e.ID] {
			t.Errorf("id %s twice", e.ID)
		}
		ids[e.ID] = true
	}
	for key, want := range map[string]string{histHighRisk + "/1": "new", histHighRisk + "/2": "updated",
		histHighRisk + "/3": "updated", histRetired + "/2": "retired", histRetired + "/1": "new"} {
		if kinds[key] != want {
			t.Errorf("%s: category %q, want %q", key, kinds[key], want)
		}
	}
	if _, ok := kinds[histHighRisk+"/4"]; ok {
		t.Error("the feed lists revision 4, which is in review")
	}
}

// testEntryFeed checks that the entry feed lists its published revisions, with stable
// IDs, and answers If-None-Match with 304.
func testEntryFeed(t *testing.T, sc *histScene) {
	feed, entries, res := getFeed(t, sc.c, sc.base+"/feed.atom", "en")
	expectAbsent(t, "the entry feed", res.body, sc.hidden...)
	expectAbsent(t, "the entry feed, decoded", feedText(feed), sc.hidden...)
	var numbers []int
	for _, e := range entries {
		numbers = append(numbers, e.Number)
	}
	if !slices.Equal(numbers, []int{3, 2, 1}) {
		t.Fatalf("entry feed lists %v, want [3 2 1]", numbers)
	}
	first := entries[0]
	if first.Title != "Proactive detection of households at risk of energy poverty, revision 3" ||
		!strings.Contains(first.Summary, "Change note: New online form to object to the processing") {
		t.Errorf("entry: %+v", first)
	}
	// The same revision keeps its ID; another language's feed is another document.
	_, again, _ := getFeed(t, sc.c, sc.base+"/feed.atom", "en")
	_, inCatalan, _ := getFeed(t, sc.c, "/ca/algorithms/"+histHighRisk+"/feed.atom", "ca")
	if again[0].ID != first.ID || inCatalan[0].ID == first.ID {
		t.Errorf("ids: %s, again %s, in Catalan %s", first.ID, again[0].ID, inCatalan[0].ID)
	}
	// A cached feed answers a conditional request with 304 and no body.
	etag := res.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, sc.f.app.http.URL+sc.base+"/feed.atom", nil)
	req.Header.Set("If-None-Match", etag)
	if res := sc.c.do(req); res.StatusCode != http.StatusNotModified || res.body != "" || etag == "" || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("If-None-Match %s: status %d, %d bytes", etag, res.StatusCode, len(res.body))
	}
}

// TestUnpublishedEntryLeavesFeeds checks that an entry an administrator took off the
// register leaves a tombstone on its history and disappears from the register feed.
func TestUnpublishedEntryLeavesFeeds(t *testing.T) {
	t.Parallel()
	f := newHistFixture(t)
	c := f.app.client()
	ctx := context.Background()
	alg, err := f.app.srv.Algorithms().BySlug(ctx, histMinimal)
	if err != nil {
		t.Fatal(err)
	}
	getFeed(t, c, "/en/feed.atom", "en") // cached before
	admin := f.app.user("admin@demo.example", auth.RoleAdmin)
	if err := f.app.srv.Review().Unpublish(ctx, alg.ID, "Published by mistake.", review.Actor{UserID: admin.ID, Email: admin.Email, Roles: admin.Roles}); err != nil {
		t.Fatal(err)
	}
	base := "/en/algorithms/" + histMinimal
	for _, path := range []string{base + "/versions", base + "/diff/1..1", base + "/feed.atom"} {
		res := c.get(path)
		expectStatus(t, res, http.StatusGone)
		if !strings.Contains(res.body, "Published by mistake.") {
			t.Errorf("%s: no tombstone", path)
		}
	}
	_, entries, _ := getFeed(t, c, "/en/feed.atom", "en")
	for _, e := range entries {
		if e.Slug == histMinimal {
			t.Fatalf("the register feed still lists %s", histMinimal)
		}
	}
}
